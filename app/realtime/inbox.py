"""The inbox's rule (which events a user's own feed carries) and what an inbox socket
missed while its link was down, read back from the outbox.

Live, the hub finds an event's inbox sockets through its indexes (by user, by facility);
a resuming socket reads the same events from the outbox with `hears`, the rule those
indexes implement, so a flaky link never loses an offer.
"""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import WebSocket
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import is_postgres, unit_of_work
from app.core.principal import Principal, Role, Scope
from app.events.models import INTERNAL_EVENTS, OutboxEvent, names
from app.events.relay import as_message

# Events a facility's clinicians hear of in their inbox although not named in the audience.
FACILITY_EVENTS = ("case.", "note.", "followup.", "round.")
# On PostgreSQL an outbox id is drawn at insert and a transaction holding a smaller id may
# commit after one holding a larger: the event a client saw last is not proof it saw every
# smaller one. A resume also re-reads what was written shortly before that event; the
# socket (and the client, by `id`) drops what it already has. SQLite commits in id order.
OVERLAP = timedelta(seconds=30)
OVERLAP_IDS = 5000  # the same window, bounded by id so the read stays on the primary key
PAGE = 200
REPLAY_PAGES = 25  # 5,000 outbox rows read at most
# Enough for a resume's overlap with the bus; small, as a socket lives for days.
HEARD_KEPT = 512


class Heard:
    """Event ids an inbox socket has sent, the oldest forgotten first: delivery is at least
    once (the bus, and a resume overlapping it), the client gets each once."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: dict[int, None] = {}

    def first(self, event_id: int) -> bool:
        if event_id in self.ids:
            return False
        self.ids[event_id] = None
        if len(self.ids) > HEARD_KEPT:
            del self.ids[next(iter(self.ids))]
        return True


def hears_facility(p: Principal) -> bool:
    """Whether `p`'s inbox hears its facility's events (clinicians, a facility's API clients)."""
    return bool(p.organization_id) and (p.is_client or p.role is Role.clinician)


def facility_scope(event_type: str) -> Scope:
    # An API client hears its facility's events only within its scopes (as on GET /changes).
    return Scope.rounds_read if event_type.startswith("round.") else Scope.cases_read


def hears(p: Principal, ev: dict[str, Any]) -> bool:
    if ev["type"] in INTERNAL_EVENTS:
        return False
    if p.id in (ev.get("audience") or ()):
        return True
    return (
        hears_facility(p)
        and ev.get("organization_id") == p.organization_id
        and ev["type"].startswith(FACILITY_EVENTS)
        and p.has_scope(facility_scope(ev["type"]))
    )


def frame(ev: dict[str, Any]) -> dict[str, Any]:
    payload = dict(ev.get("payload") or {})
    payload.pop("body", None)  # the inbox notifies; the room carries the conversation
    return {
        "type": "event",
        "id": ev["id"],
        "event": ev["type"],
        "resource_type": ev["resource_type"],
        "resource_id": ev["resource_id"],
        "organization_id": ev.get("organization_id"),
        "payload": payload,
        "at": ev.get("created_at"),
    }


def frame_text(ev: dict[str, Any]) -> str:
    return json.dumps(frame(ev), separators=(",", ":"), default=str)


def _reach(p: Principal) -> ColumnElement[bool]:
    """A SQL superset of `hears`, so a replay reads little beyond what it sends."""
    named = names(p.id)
    if hears_facility(p):
        return or_(named, col(OutboxEvent.organization_id) == p.organization_id)
    return named


async def last_event_id(s: AsyncSession) -> int:
    """Where a socket opened now stands: a client that heard no event resumes from here."""
    return int(await s.scalar(select(func.max(col(OutboxEvent.id)))) or 0)


async def missed(
    p: Principal, after_id: int, limit: int, overlap: bool = False
) -> tuple[list[dict[str, Any]], int, bool]:
    """Events `p`'s inbox carries with ids after `after_id`, oldest first, from at most
    `limit` rows read: (events, the last id read, whether a full page was read). With
    `overlap` on PostgreSQL, also those written up to `OVERLAP` before `after_id`."""
    async with unit_of_work() as s:
        window = col(OutboxEvent.id) > after_id
        if overlap and is_postgres(s) and after_id > 0:
            seen_at = await s.scalar(
                select(col(OutboxEvent.created_at)).where(col(OutboxEvent.id) == after_id)
            )
            if seen_at is not None:
                window = or_(
                    window,
                    (col(OutboxEvent.id) > max(0, after_id - OVERLAP_IDS))
                    & (col(OutboxEvent.created_at) >= seen_at - OVERLAP),
                )
        rows = (
            await s.scalars(
                select(OutboxEvent)
                .where(window, _reach(p))
                .order_by(col(OutboxEvent.id))
                .limit(limit)
            )
        ).all()
    position = max([after_id, *(int(r.id or 0) for r in rows)])
    return [m for m in map(as_message, rows) if hears(p, m)], position, len(rows) == limit


async def replay(
    p: Principal, after_id: int, heard: Heard, ws: WebSocket, closing: Callable[[], bool]
) -> bool:
    """Send, in order, the inbox events after `after_id` that the socket has not sent; at
    most REPLAY_PAGES pages of the outbox (then a `resume-truncated` error: the client
    reads its lists again instead of a week of events on a slow link). True if truncated."""
    first = True
    for _ in range(REPLAY_PAGES):
        if closing():
            return False
        events, after_id, more = await missed(p, after_id, PAGE, first)
        first = False
        for ev in events:
            if closing():
                return False
            if heard.first(ev["id"]):
                await ws.send_text(frame_text(ev))
        if not more:
            return False
    await ws.send_text(
        json.dumps(
            {
                "type": "error",
                "code": "resume-truncated",
                "detail": "More was missed than a socket replays: read the lists again.",
                "last_event_id": after_id,
            }
        )
    )
    return True
