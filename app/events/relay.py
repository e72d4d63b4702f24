"""The outbox relay: hands committed events to pub/sub, in id order, and marks them published.

Nothing is announced before it commits and nothing committed stays silent:
- Events this process commits are handed over by an `after_commit` session hook (their
  rows as flushed, minus any rolled back with a savepoint) and published at once, without
  reading them back; their rows are marked published in one transaction per ~0.2 s.
  Publishing needs no database, so it never waits behind the marking: a second task does
  the bookkeeping (marking, the poll below), and a stalled transaction there (no free
  connection in the pool) delays only that.
- A fallback poll, in every process, publishes rows still unmarked after a grace period:
  events of a process that died between commit and marking, or committed by a standalone
  worker. On PostgreSQL it claims rows with FOR UPDATE SKIP LOCKED, so two processes never
  publish one row at once; SQLite's single writer lock does the same.
Delivery is at least once; the live hub drops what a socket already has (by `seq`).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import is_postgres, unit_of_work
from app.events.models import OutboxEvent

log = logging.getLogger("app.events.relay")

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]
_KEY = "outbox_ids"


def as_message(e: OutboxEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "organization_id": e.organization_id,
        "audience": list(e.audience or []),
        "payload": e.payload or {},
        "created_at": e.created_at.isoformat(),
    }


class Relay:
    def __init__(
        self,
        publish: Publish,
        *,
        poll_seconds: float = 1.0,
        grace_seconds: float = 2.0,
        batch: int = 500,
        mark_seconds: float = 0.2,
    ) -> None:
        self.publish = publish
        self.poll_seconds, self.grace_seconds, self.batch = poll_seconds, grace_seconds, batch
        # Publishing is immediate; marking rows published is one write transaction for all
        # events published within `mark_seconds` (well inside the grace period), not one
        # per commit: on SQLite each would queue for the one writer like a request.
        self.mark_seconds = min(mark_seconds, grace_seconds / 4)
        self._wake = asyncio.Event()  # events to publish
        self._keep_wake = asyncio.Event()  # a batch of rows to mark
        self._pending: list[dict[str, Any]] = []
        self._unmarked: list[int] = []
        self._mark_due: float | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None  # publishes
        self._keeper: asyncio.Task[None] | None = None  # marks rows, polls for stale ones

    def notify(self, events: list[dict[str, Any]]) -> None:
        """Called right after a commit in this process: publish these now."""
        self._pending.extend(events)
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._keeper = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        """Publish what is pending, then mark it all, then end."""
        self._stop.set()
        self._wake.set()
        for task in (self._task, self._keeper):
            if task is None:
                continue
            self._keep_wake.set()  # after the publisher's last pass: its rows are marked too
            with contextlib.suppress(BaseException):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                while self._pending:
                    events, self._pending = self._pending, []
                    await self.publish(events)
                    self._unmarked.extend(e["id"] for e in events)
                    if self._mark_due is None or len(self._unmarked) >= self.batch:
                        if self._mark_due is None:
                            self._mark_due = loop.time() + self.mark_seconds
                        self._keep_wake.set()  # the keeper may be sleeping till its poll
            except Exception:
                # Lost from memory only: the poll publishes their rows after the grace period.
                log.exception("outbox relay could not publish; the poll will")
            if self._stop.is_set():
                return

    async def _keep(self) -> None:
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            due = next_poll if self._mark_due is None else min(next_poll, self._mark_due)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, due - loop.time())):
                    await self._keep_wake.wait()
            self._keep_wake.clear()
            # Ends once the publisher has: what it published last is marked first.
            ending = self._task is None or self._task.done()
            try:
                if self._unmarked and (
                    ending
                    or len(self._unmarked) >= self.batch
                    or loop.time() >= (self._mark_due or 0)
                ):
                    await self._mark_unmarked()
                if ending:
                    return
                if loop.time() >= next_poll:
                    next_poll = loop.time() + self.poll_seconds
                    await self.publish_stale()
            except Exception:
                log.exception("outbox relay pass failed; retrying on the next poll")
                next_poll = loop.time() + self.poll_seconds
                if ending:
                    return

    async def _mark_unmarked(self) -> None:
        # If this fails, the stale poll publishes them again (delivery is at least once).
        ids, self._unmarked, self._mark_due = self._unmarked, [], None
        await self._mark(ids)

    async def _mark(self, ids: list[int]) -> None:
        async with unit_of_work() as s:
            for i in range(0, len(ids), self.batch):
                await s.execute(
                    update(OutboxEvent)
                    .where(col(OutboxEvent.id).in_(ids[i : i + self.batch]))
                    .values(published_at=utcnow())
                )

    async def publish_stale(self) -> int:
        """Events nobody published within the grace period, oldest first."""
        total = 0
        cutoff = utcnow() - timedelta(seconds=self.grace_seconds)
        while n := await self.publish_claimed(OutboxEvent.created_at < cutoff):
            total += n
            if n < self.batch:
                break
        return total

    async def publish_claimed(self, where: Any) -> int:
        async with unit_of_work() as s:
            stmt = (
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None), where)
                .order_by(col(OutboxEvent.id))
                .limit(self.batch)
            )
            if is_postgres(s):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list((await s.scalars(stmt)).all())
            if not rows:
                await s.rollback()
                return 0
            await self.publish([as_message(r) for r in rows])
            await s.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.id).in_([r.id for r in rows]))
                .values(published_at=utcnow())
            )
            return len(rows)


_relay: Relay | None = None


def install(relay: Relay | None) -> None:
    """Make `relay` the one woken by this process's commits (None: no relay running)."""
    global _relay
    _relay = relay


def _innermost(session: Session) -> Any:
    return session.get_nested_transaction() or session.get_transaction()


def remember(session: Session, event: OutboxEvent) -> None:
    """An outbox row just inserted in `session` (app.events.service.emit): hand it to the
    relay if its transaction commits."""
    if _relay is not None:
        session.info.setdefault(_KEY, []).append((_innermost(session), as_message(event)))


@event.listens_for(Session, "after_flush")
def _remember_outbox_rows(session: Session, _ctx: Any) -> None:
    """Outbox rows added as ORM objects (emit inserts directly and calls `remember`)."""
    if _relay is None:
        return
    rows = [o for o in session.new if isinstance(o, OutboxEvent)]
    if rows:
        tx = _innermost(session)
        session.info.setdefault(_KEY, []).extend((tx, as_message(o)) for o in rows)


def _within(tx: Any, ancestor: Any) -> bool:
    while tx is not None:
        if tx is ancestor:
            return True
        tx = tx.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: Any) -> None:
    kept = session.info.get(_KEY)
    if not kept:
        return
    if not previous.nested:
        session.info.pop(_KEY, None)
        return
    # A savepoint rolled back: only the events flushed inside it are gone.
    session.info[_KEY] = [(tx, ev) for tx, ev in kept if not _within(tx, previous)]


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released; the real commit comes later
    rows = session.info.pop(_KEY, None)
    if rows and _relay is not None:
        _relay.notify([ev for _tx, ev in rows])
