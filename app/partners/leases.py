"""Leases on webhook endpoints: which dispatcher worker may send to an endpoint, and until
when it surely may (fencing), so that two live workers never send one delivery twice."""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from app.core.clock import clock, utcnow
from app.core.db import unit_of_work
from app.partners.models import WebhookEndpoint

log = logging.getLogger("app.partners")

# An endpoint is leased to the worker sending to it, renewed every RENEW_SECONDS while it
# sends: a worker that dies (kill -9) holds it at most LEASE_SECONDS more, so a restart or
# another worker resumes within seconds. Real seconds (the programme's clock may run fast).
LEASE_SECONDS = 5.0
RENEW_SECONDS = 1.0
# Fencing: a send starts only while the lease surely has this long left (Leases.held): time for
# the send in flight, the batch's record, and clocks that differ by less. 3 s without a
# renewal stops a batch.
FENCE_SECONDS = 2.0


def lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=LEASE_SECONDS * clock.speed)


def owned(ep_ids: list[str], worker: str) -> Any:
    # Only `worker`'s own lease: one that lapsed and was claimed is the new holder's.
    return update(WebhookEndpoint).where(
        col(WebhookEndpoint.id).in_(ep_ids), col(WebhookEndpoint.lease_owner) == worker
    )


class Leases:
    """Until when this worker surely holds each endpoint of its pass: the lease_until its
    claim wrote, then each one a renewal wrote to a row still its own (None: lost). No other
    worker claims the endpoint before that instant, so sending well before it is safe."""

    def __init__(self, worker: str, ids: list[str], until: datetime) -> None:
        self.worker = worker
        self._until: dict[str, datetime | None] = dict.fromkeys(ids, until)

    def held(self, ep_id: str) -> bool:
        until, margin = self._until.get(ep_id), timedelta(seconds=FENCE_SECONDS * clock.speed)
        return until is not None and until - utcnow() >= margin

    async def keep(self) -> None:
        """Renew the leases still held every RENEW_SECONDS until cancelled (drains done)."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            ids = [ep_id for ep_id, until in self._until.items() if until is not None]
            until = lease_until(utcnow())
            try:
                async with unit_of_work() as s:
                    renew = owned(ids, self.worker).values(lease_until=until)
                    mine = set((await s.scalars(renew.returning(col(WebhookEndpoint.id)))).all())
            except Exception:
                log.warning("webhook lease renewal failed; retrying", exc_info=True)
                continue
            # Believed once committed. A row no longer ours (released by our drain, or
            # claimed by another worker after our lease lapsed) is not ours again this pass.
            self._until.update({ep_id: until if ep_id in mine else None for ep_id in ids})
