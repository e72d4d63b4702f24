"""The inbox socket: a user's own live feed."""

import functools
from typing import Any

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect

from app.core.principal import Principal
from app.core.routing import make_router
from app.realtime import inbox as rule
from app.realtime.hub import Conn, Hub, dumps
from app.realtime.protocol import authenticate, error, hub_of, receive_loop, schedule_expiry

router = make_router(tags=["live"])

MAX_ID = 2**62


def _event_id(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID
    return value if ok else None


async def inbox(websocket: WebSocket) -> None:
    """Offers, status changes of one's cases, notes to acknowledge, follow-ups, rounds.

    `after_id` in the auth frame (or a later `resume` frame) replays, in order, the events
    this user's inbox carried after that event id while the socket was away."""
    hub = hub_of(websocket)
    # Attached before reading where the outbox stands: whatever commits from then on reaches
    # the socket's buffer, and a replay reads what committed before; each is sent once.
    pending: list[Conn] = []
    auth = await authenticate(websocket, functools.partial(_attach, hub, websocket, pending))
    if auth is None:
        for c in pending:
            hub.detach(c)
        return
    p, _, first, last = auth
    conn = pending.pop()
    resume = _event_id(first.get("after_id"))
    try:
        if conn.closing:
            return  # closed by a re-check while being admitted: its close frame is going out
        await websocket.send_text(
            dumps({"type": "ready", "user_id": p.id, "conn_id": conn.id, "last_event_id": last})
        )
        schedule_expiry(conn)
        conn.start(resume_to=resume)
        await receive_loop(conn, _handle)
    except WebSocketDisconnect:
        pass  # the peer left before `ready` went out
    except RuntimeError:
        if not conn.closing:  # else: closed by the hub while `ready` waited to go out
            raise
    finally:
        await conn.finish()


async def _attach(
    hub: Hub, ws: WebSocket, pending: list[Conn], s: AsyncSession, p: Principal, token: str
) -> int:
    conn = Conn(hub, ws, p, token, None)
    hub.attach(conn)
    pending.append(conn)
    return await rule.last_event_id(s)


# A plain Starlette route (see app/consults/router.py): no dependency machinery held per socket.
# Starlette's method does not apply the router's prefix: the path is given whole.
router.add_websocket_route(f"{router.prefix}/ws/inbox", inbox, name="inbox")


async def _handle(conn: Conn, frame: dict[str, Any]) -> None:
    if frame.get("type") == "resume":
        after = _event_id(frame.get("after_id"))
        if after is None:
            error(conn, "invalid-frame", "after_id must be a non-negative integer.")
            return
        conn.start(resume_to=after)
        return
    error(conn, "unknown-type", "The inbox takes only auth, resume, ping and pong frames.")
