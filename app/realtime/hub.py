"""The live hub: which sockets of this process listen to what, and fan-out to them.

Every process hears every bus message and delivers to its own sockets. Each socket has a
bounded buffer drained by a short-lived sender task; a client that lets it fill up is
closed (4429) and resumes later. Room messages carry `seq`: a socket's cursor skips what
it already has and fills any gap from the database, so a socket sees every message of the
case exactly once, in order, whatever the bus dropped, duplicated or reordered.
"""

import asyncio
import contextlib
import itertools
import json
import logging
from collections import defaultdict, deque
from collections.abc import Coroutine
from typing import Any, Protocol

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import unit_of_work
from app.core.deps import resolve_principal
from app.core.errors import Unauthorized
from app.core.principal import Principal
from app.events.models import SESSION_ENDED
from app.realtime import codes, inbox
from app.realtime.pubsub import PubSub

log = logging.getLogger("app.realtime")

FILL = -1  # buffer marker: catch up from the database


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def message_frame(m: dict[str, Any]) -> str:
    return dumps({"type": "message", **m})


class RoomSource(Protocol):
    """What a room's domain tells the hub (the hub knows sockets, not cases): the stored
    frames a socket missed, and who may still be in which room."""

    async def missed(
        self, room: str, after_seq: int, up_to: int | None, limit: int
    ) -> list[tuple[int, str]]:
        """Stored frames with seq after `after_seq` (at most `up_to`), in order, as (seq, text)."""
        ...

    async def still_admitted(
        self, session: AsyncSession, p: Principal, rooms: set[str]
    ) -> set[str]:
        """Of `rooms`, those `p` may still be in."""
        ...


class Conn:
    """One authenticated socket (a room's or an inbox's)."""

    __slots__ = (
        "id",
        "hub",
        "ws",
        "principal",
        "token",
        "case_id",
        "buf",
        "cursor",
        "ready",
        "closing",
        "sender",
        "resume_to",
        "expiry",
        "hold",
        "closer",
        "source",
        "stale",
        "checked",
        "heard",
        "__weakref__",
    )

    def __init__(
        self,
        hub: "Hub",
        ws: WebSocket,
        principal: Principal,
        token: str,
        case_id: str | None,
        source: RoomSource | None = None,
    ) -> None:
        self.id = f"{hub.pubsub.origin}.{next(hub.counter)}"
        self.hub, self.ws, self.principal, self.token = hub, ws, principal, token
        self.case_id = case_id
        self.buf: deque[tuple[int | None, str]] = deque()
        self.cursor = 0
        self.ready = False
        self.closing = False
        self.sender: asyncio.Task[None] | None = None
        self.resume_to: int | None = None
        self.expiry: asyncio.TimerHandle | None = None
        self.hold: asyncio.TimerHandle | None = None  # live frames held after a truncated replay
        self.closer: asyncio.Task[None] | None = None
        self.source = source  # a room's; None for an inbox
        # Revocations of this subject heard, and covered by a token check (equal: verified).
        self.stale = 0
        self.checked = 0
        self.heard = inbox.Heard()  # an inbox's: event ids sent (the bus and a resume overlap)

    @property
    def user_id(self) -> str:
        return self.principal.id

    # -- sending -------------------------------------------------------------------------
    def offer(self, seq: int | None, text: str) -> None:
        if self.closing:
            return
        if len(self.buf) >= self.hub.queue_limit:
            self.kill(*codes.SLOW_CONSUMER)
            return
        self.buf.append((seq, text))
        self._kick()

    def send_soon(self, frame: dict[str, Any]) -> None:
        self.offer(None, dumps(frame))

    def start(self, resume_to: int | None = None) -> None:
        """Let buffered frames flow (after `resume` replayed what the client missed)."""
        if resume_to is not None:
            self.resume_to = resume_to
        if self.hold is not None:
            self.hold.cancel()
        self.ready = True
        self._kick()

    def _kick(self) -> None:
        if self.ready and self.sender is None and not self.closing:
            self.sender = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while not self.closing:
                if self.resume_to is not None:
                    self.cursor, self.resume_to = self.resume_to, None
                    if await self._fill(None):  # cut short: a live frame would overtake what
                        self.ready = False  # it left out; it waits for a resume (or none)
                        wait = self.hub.resume_wait
                        self.hold = asyncio.get_running_loop().call_later(wait, self.start)
                        break
                    continue
                if not self.buf:
                    break
                seq, text = self.buf.popleft()
                if seq is not None and self.case_id is None:
                    if not self.heard.first(seq):
                        continue  # an inbox's event id: sent already
                elif seq is not None:
                    if seq == FILL:
                        await self._fill(None)
                        continue
                    if seq <= self.cursor:
                        continue  # already sent (replayed, or published twice)
                    if seq > self.cursor + 1:
                        await self._fill(seq - 1)  # the bus lost or reordered something
                        if seq <= self.cursor:
                            continue
                    self.cursor = seq
                await self.ws.send_text(text)
        except Exception as e:
            # The peer went away mid-send, or a catch-up read failed: either way the client
            # must not stay on a socket that silently stopped; it reconnects and resumes.
            log.info("socket %s stopped sending: %r", self.id, e)
            self.sender = None
            self.kill(*codes.INTERNAL)
        finally:
            self.sender = None
        if self.buf and not self.closing:
            self._kick()

    async def _fill(self, up_to: int | None) -> bool:
        """Send stored messages after the cursor (a session per page, none held while
        sending). True if an inbox's replay was cut short (`resume-truncated`)."""
        if self.case_id is None:
            return await inbox.replay(
                self.principal, self.cursor, self.heard, self.ws, lambda: self.closing
            )
        if self.source is None:
            return False
        while not self.closing:
            rows = await self.source.missed(self.case_id, self.cursor, up_to, 200)
            for seq, text in rows:
                if self.closing:
                    return
                await self.ws.send_text(text)
                self.cursor = seq
            if len(rows) < 200:
                break
        return False

    # -- closing -------------------------------------------------------------------------
    def kill(self, code: int, reason: str) -> None:
        """Close with a code the client can act on; the socket stops hearing anything now."""
        if self.closing:
            return
        self.closing = True
        self.buf.clear()  # never sent now: free it while the close frame waits its turn
        self.hub.detach(self)
        task = self.closer = asyncio.create_task(self._close(code, reason))
        self.hub.closing.add(task)
        task.add_done_callback(self.hub.closing.discard)

    async def _close(self, code: int, reason: str) -> None:
        if self.sender is not None:
            self.sender.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(codes.CLOSE_WAIT_SECONDS):
                await self.ws.close(code, reason)

    async def finish(self) -> None:
        """The endpoint is done: stop timers, leave the hub, let a pending close go out."""
        self.cancel_timers()
        if not self.closing:
            self.closing = True
            self.hub.detach(self)
        if self.sender is not None:
            self.sender.cancel()
        if self.closer is not None:
            with contextlib.suppress(BaseException):
                await self.closer

    def cancel_timers(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if self.hold is not None:
            self.hold.cancel()


class Hub:
    def __init__(self, pubsub: PubSub, queue_limit: int = 512, resume_wait: float = 0.5) -> None:
        self.pubsub = pubsub
        self.queue_limit = queue_limit
        self.resume_wait = resume_wait  # seconds live frames wait for a `resume` frame
        self.counter = itertools.count(1)
        self.rooms: dict[str, set[Conn]] = defaultdict(set)
        self.users: dict[str, set[Conn]] = defaultdict(set)  # every socket, by subject
        self.inbox_users: dict[str, set[Conn]] = defaultdict(set)
        self.inbox_orgs: dict[str, set[Conn]] = defaultdict(set)
        self.closing: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.pubsub.start(self.on_bus, self.resync)

    async def stop(self) -> None:
        for conn in self.all_conns():
            conn.kill(*codes.GOING_AWAY)
        if self.closing:
            await asyncio.wait(list(self.closing), timeout=5)
        await self.pubsub.stop()

    def all_conns(self) -> list[Conn]:
        found: set[Conn] = set()
        for group in (self.rooms, self.inbox_users, self.inbox_orgs):
            for conns in group.values():
                found |= conns
        return list(found)

    # -- membership ----------------------------------------------------------------------
    def attach(self, conn: Conn) -> None:
        self.users[conn.user_id].add(conn)
        if conn.case_id is not None:
            self.rooms[conn.case_id].add(conn)
            return
        self.inbox_users[conn.user_id].add(conn)
        p = conn.principal
        if p.organization_id and inbox.hears_facility(p):
            self.inbox_orgs[p.organization_id].add(conn)

    def detach(self, conn: Conn) -> None:
        for group, key in (
            (self.users, conn.user_id),
            (self.rooms, conn.case_id),
            (self.inbox_users, conn.user_id),
            (self.inbox_orgs, conn.principal.organization_id),
        ):
            if key is None or key not in group:
                continue
            group[key].discard(conn)
            if not group[key]:
                del group[key]

    def local_users(self, case_id: str, but: Conn | None = None) -> dict[str, str]:
        return {
            c.user_id: c.principal.role.value
            for c in self.rooms.get(case_id, ())
            if c is not but and not c.closing
        }

    # -- publishing ----------------------------------------------------------------------
    async def publish_events(self, events: list[dict[str, Any]]) -> None:
        """The outbox relay's sink: committed events, in id order."""
        await self.pubsub.publish({"kind": "events", "events": events})

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: "asyncio.Task[Any]") -> None:
        self._background.discard(task)
        if not task.cancelled() and (e := task.exception()) is not None:
            log.warning("live hub task failed (a re-check closes nobody then): %r", e)

    def to_room(
        self,
        case_id: str,
        frame: dict[str, Any],
        *,
        but: str | None = None,
        to_user: str | None = None,
        to_conn: str | None = None,
    ) -> None:
        """An ephemeral frame (presence, typing, signal): straight to the bus, never stored."""
        to = {"but": but, "to_user": to_user, "to_conn": to_conn}
        self.spawn(self.pubsub.publish({"kind": "room", "case_id": case_id, "frame": frame, **to}))

    def joined(self, conn: Conn) -> None:
        assert conn.case_id is not None
        first = conn.user_id not in self.local_users(conn.case_id, but=conn)
        self.spawn(self.pubsub.publish({"kind": "who", "case_id": conn.case_id, "conn": conn.id}))
        if first:
            self.to_room(
                conn.case_id,
                {
                    "type": "presence",
                    "state": "joined",
                    "user_id": conn.user_id,
                    "role": conn.principal.role.value,
                },
                but=conn.id,
            )

    def left(self, conn: Conn) -> None:
        if conn.case_id is None or conn.user_id in self.local_users(conn.case_id, but=conn):
            return
        self.to_room(
            conn.case_id,
            {
                "type": "presence",
                "state": "left",
                "user_id": conn.user_id,
                "role": conn.principal.role.value,
            },
        )

    # -- receiving -----------------------------------------------------------------------
    def on_bus(self, msg: dict[str, Any]) -> None:
        kind = msg.get("kind")
        if kind == "events":
            for ev in msg["events"]:
                self._on_event(ev)
        elif kind == "room":
            self._on_room(msg)
        elif kind == "who":
            members = self.rooms.get(msg["case_id"], ())
            users = {
                c.user_id: c.principal.role.value
                for c in members
                if c.id != msg["conn"] and not c.closing
            }
            if users:
                self.to_room(
                    msg["case_id"],
                    {
                        "type": "presence",
                        "state": "present",
                        "users": [{"user_id": u, "role": r} for u, r in users.items()],
                    },
                    to_conn=msg["conn"],
                )

    def _on_room(self, msg: dict[str, Any]) -> None:
        conns = self.rooms.get(msg["case_id"])
        if not conns:
            return
        text = dumps(msg["frame"])
        but, to_user, to_conn = msg.get("but"), msg.get("to_user"), msg.get("to_conn")
        for c in list(conns):
            if c.id == but or (to_user and c.user_id != to_user) or (to_conn and c.id != to_conn):
                continue
            c.offer(None, text)

    def _on_event(self, ev: dict[str, Any]) -> None:
        etype: str = ev["type"]
        payload = ev.get("payload") or {}
        if etype == SESSION_ENDED:
            self.session_ended(ev["resource_id"])
            return
        if etype == "message.created":
            conns = self.rooms.get(payload.get("case_id", ""))
            if conns:
                text = message_frame(payload)
                seq = int(payload["seq"])
                for c in list(conns):
                    c.offer(seq, text)
        elif ev.get("resource_type") == "case" or "case_id" in payload:
            case_id = ev["resource_id"] if ev.get("resource_type") == "case" else payload["case_id"]
            conns = self.rooms.get(case_id)
            if conns:
                if etype.startswith("case.") and "status" in payload:
                    text = dumps(
                        {
                            "type": "case",
                            "event": etype,
                            "case_id": case_id,
                            "status": payload["status"],
                            "previous_status": payload.get("previous_status"),
                            "at": ev.get("created_at"),
                        }
                    )
                    for c in list(conns):
                        c.offer(None, text)
                # Assignment, cancellation, participants: who may stay in the room may change.
                if etype.startswith("case.") or "participant" in etype:
                    self.spawn(self.recheck(list(conns)))
        self._to_inbox(ev)

    def _to_inbox(self, ev: dict[str, Any]) -> None:
        """`inbox.hears`, through the indexes: who is named, and a facility's listeners."""
        targets: set[Conn] = set()
        for uid in ev.get("audience") or ():
            targets |= self.inbox_users.get(uid, set())
        org = ev.get("organization_id")
        if org and ev["type"].startswith(inbox.FACILITY_EVENTS):
            needed = inbox.facility_scope(ev["type"])
            targets |= {c for c in self.inbox_orgs.get(org, ()) if c.principal.has_scope(needed)}
        if not targets:
            return
        text = inbox.frame_text(ev)
        for c in targets:
            c.offer(ev["id"], text)

    def resync(self) -> None:
        """The bus was cut off: every room socket catches up from the database."""
        for conns in list(self.rooms.values()):
            for c in list(conns):
                c.offer(FILL, "")

    # -- access ----------------------------------------------------------------------------
    def session_ended(self, subject: str) -> None:
        """`subject`'s tokens were revoked: its sockets handle no frame before a check (now)."""
        conns = [c for c in self.users.get(subject, ()) if not c.closing]
        for c in conns:
            c.stale += 1
        if conns:
            self.spawn(self.recheck(conns))

    async def recheck(self, conns: list[Conn]) -> None:
        """Close sockets whose token ended or who may no longer see their case in full."""
        by_token: dict[str, list[Conn]] = defaultdict(list)
        heard: dict[Conn, int] = {}
        for c in conns:
            if not c.closing:
                by_token[c.token].append(c)
                heard[c] = c.stale  # a revocation heard during the read is checked again
        if not by_token:
            return
        async with unit_of_work() as s:
            for token, group in by_token.items():
                try:
                    p = await resolve_principal(s, token, group[0].principal.ip)
                except Unauthorized:
                    for c in group:
                        c.kill(*codes.SESSION_ENDED)
                    continue
                for c in group:
                    c.checked = max(c.checked, heard[c])
                allowed: set[str] = set()
                for source in {c.source for c in group if c.source is not None}:
                    rooms = {c.case_id for c in group if c.case_id and c.source is source}
                    allowed |= await source.still_admitted(s, p, rooms)
                for c in group:
                    if c.case_id and c.case_id not in allowed:
                        c.kill(*codes.ACCESS_REVOKED)

    async def sweep_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.recheck(self.all_conns())
            except Exception:
                log.exception("socket access sweep failed")
