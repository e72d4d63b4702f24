"""The live room of one case: frames in, frames out (protocol in docs/consults.md)."""

import functools
import logging
from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.websockets import WebSocketDisconnect

from app.audit import service as audit
from app.cases.access import View, full_access, view_of
from app.cases.models import Case
from app.consults import service
from app.consults.schemas import MessageCreate
from app.core.db import unit_of_work
from app.core.deps import resolve_principal
from app.core.errors import AppError, Unauthorized
from app.core.pagination import MAX_SEQ
from app.core.principal import Principal, Scope, missing_scope
from app.realtime import codes, presence
from app.realtime.hub import Conn, Hub, dumps, message_frame
from app.realtime.protocol import (
    authenticate,
    error,
    hub_of,
    receive_loop,
    schedule_expiry,
)

log = logging.getLogger("app.consults")

MAX_SIGNAL_CHARS = 32 * 1024


class CaseRoom:
    """What the hub asks of a case's room: stored messages a socket missed, who may stay."""

    async def missed(
        self, room: str, after_seq: int, up_to: int | None, limit: int
    ) -> list[tuple[int, str]]:
        # A session per page, none held while the hub sends.
        async with unit_of_work() as s:
            rows = await service.messages_between(s, room, after_seq, up_to, limit=limit)
        return [(m.seq, message_frame(service.as_dict(m))) for m in rows]

    async def still_admitted(
        self, session: AsyncSession, p: Principal, rooms: set[str]
    ) -> set[str]:
        if not rooms:
            return set()
        stmt = select(col(Case.id)).where(col(Case.id).in_(rooms), full_access(p))
        return set((await session.scalars(stmt)).all())


ROOM = CaseRoom()


async def _admit(s: AsyncSession, p: Principal, case_id: str) -> int | None:
    """The case's last seq when `p` sees it in full; None otherwise (a denied read)."""
    found = await view_of(s, p, case_id)
    if found is None or found[1] != View.full:
        await audit.append_denied(p, "case.read_full", "case", case_id[:40], detail="live room")
        return None
    last = await service.last_seq(s, case_id)
    await audit.append(s, p, "consult.join", "case", case_id)
    return last


async def _attach_and_admit(
    hub: Hub,
    ws: WebSocket,
    case_id: str,
    pending: list[Conn],
    s: AsyncSession,
    p: Principal,
    token: str,
) -> int | None:
    # With its token from the start: a case event arriving while this admission runs
    # re-checks the room's sockets, this one included (with no token it was closed 4401).
    conn = Conn(hub, ws, p, token, case_id, ROOM)
    hub.attach(conn)
    pending.append(conn)
    return await _admit(s, p, case_id)


async def serve_room(ws: WebSocket) -> None:
    """The live room of the case in the path (WS /api/v1/ws/cases/{case_id})."""
    case_id: str = ws.path_params["case_id"]
    hub = hub_of(ws)
    # Subscribe before reading where the case stands (inside admit): nothing committed in
    # between can be missed, and the cursor skips what was already counted.
    pending: list[Conn] = []
    # A partial, not a closure: nothing of it stays in this frame for the socket's life.
    auth = await authenticate(ws, functools.partial(_attach_and_admit, hub, ws, case_id, pending))
    if auth is None:
        for c in pending:
            hub.detach(c)
        return
    p, token, first, last = auth
    conn = pending.pop()
    after = first.get("after_seq")
    resume = after if isinstance(after, int) and not isinstance(after, bool) else None
    # An idle socket lives for hours: keep nothing in this frame it does not need.
    del auth, first, after, p, token
    entered = False
    try:
        if conn.closing:
            return  # closed by a re-check while being admitted: its close frame is going out
        conn.cursor = last
        # In the room from now on for the notifier, before `ready` (app/realtime/presence.py).
        await presence.enter(case_id, conn.user_id, conn.id)
        entered = True
        await ws.send_text(service_ready(conn, last))
        schedule_expiry(conn)
        hub.joined(conn)
        if resume is not None and 0 <= resume <= MAX_SEQ:
            conn.start(resume_to=resume)
        await receive_loop(conn, _handle)
    except WebSocketDisconnect:
        pass  # the peer left before `ready` went out
    except RuntimeError:
        # Starlette's "Cannot call send once a close message has been sent": the hub closed
        # the socket while `ready` waited to go out. Anything else is a real error.
        if not conn.closing:
            raise
    finally:
        await conn.finish()
        hub.left(conn)
        if entered:
            await presence.leave(case_id, conn.user_id, conn.id)


def service_ready(conn: Conn, last: int) -> str:
    return dumps(
        {
            "type": "ready",
            "case_id": conn.case_id,
            "user_id": conn.user_id,
            "conn_id": conn.id,
            "last_seq": last,
        }
    )


async def _handle(conn: Conn, frame: dict[str, Any]) -> None:
    kind = frame.get("type")
    if kind == "resume":
        after = frame.get("after_seq")
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SEQ:
            error(conn, "invalid-frame", "after_seq must be a non-negative integer.")
            return
        conn.start(resume_to=after)
    elif kind == "message":
        await _message(conn, frame)
    elif kind == "typing":
        assert conn.case_id is not None
        conn.hub.to_room(
            conn.case_id,
            {"type": "typing", "user_id": conn.user_id, "state": bool(frame.get("state", True))},
            but=conn.id,
        )
    elif kind == "signal":
        _signal(conn, frame)
    else:
        error(conn, "unknown-type", f"Unknown frame type {str(kind)[:40]!r}.")


async def _message(conn: Conn, frame: dict[str, Any]) -> None:
    assert conn.case_id is not None
    ref = frame.get("client_msg_id")
    if not conn.principal.has_scope(Scope.cases_write):
        # Reading the room needs cases:read; writing in it needs cases:write.
        error(
            conn,
            "insufficient-scope",
            missing_scope(Scope.cases_write),
            client_msg_id=ref if isinstance(ref, str) else None,
        )
        return
    try:
        body = MessageCreate.model_validate({k: v for k, v in frame.items() if k != "type"})
    except ValidationError as e:
        error(
            conn,
            "invalid-frame",
            "; ".join(f"/{'/'.join(str(x) for x in d['loc'])}: {d['msg']}" for d in e.errors())[
                :500
            ],
            client_msg_id=ref if isinstance(ref, str) else None,
        )
        return
    async with unit_of_work() as s:
        # The token is checked in the transaction that stores the message: a revocation
        # committed before it is never outrun, whatever the bus (or Redis) is doing.
        try:
            p = await resolve_principal(s, conn.token, conn.principal.ip)
        except Unauthorized:
            await s.rollback()
            conn.kill(*codes.SESSION_ENDED)
            return
        found = await view_of(s, p, conn.case_id)
        if found is None or found[1] != View.full:
            await s.rollback()
            conn.kill(*codes.ACCESS_REVOKED)
            return
        try:
            msg, created = await service.post_message(s, p, found[0], body.body, body.client_msg_id)
        except AppError as e:  # refused by the service (a cancelled case): said to the sender
            await s.rollback()
            error(conn, e.code, e.detail, client_msg_id=body.client_msg_id)
            return
    conn.send_soon(
        {
            "type": "ack",
            "client_msg_id": msg.client_msg_id,
            "id": msg.id,
            "seq": msg.seq,
            "duplicate": not created,
        }
    )


def _signal(conn: Conn, frame: dict[str, Any]) -> None:
    assert conn.case_id is not None
    to, data = frame.get("to"), frame.get("data")
    if not isinstance(to, str) or not to or not isinstance(data, dict):
        error(conn, "invalid-frame", "A signal needs `to` (a user id) and `data` (an object).")
        return
    if to == conn.user_id:
        error(conn, "invalid-frame", "A signal goes to another participant.")
        return
    if len(dumps(data)) > MAX_SIGNAL_CHARS:
        error(conn, "invalid-frame", "The signal's data is too large.")
        return
    # Relayed, never stored: it reaches the addressee's sockets in this room, in any process.
    conn.hub.to_room(
        conn.case_id,
        {"type": "signal", "from": conn.user_id, "from_conn": conn.id, "data": data},
        to_user=to,
    )
