"""The inbox socket: a user's own live feed."""

from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from app.core.routing import make_router
from app.realtime.hub import Conn, dumps
from app.realtime.protocol import authenticate, error, hub_of, receive_loop, schedule_expiry

router = make_router(tags=["live"])


async def inbox(websocket: WebSocket) -> None:
    """Offers, status changes of one's cases, notes to acknowledge, follow-ups, rounds."""
    auth = await authenticate(websocket)
    if auth is None:
        return
    p, token, _, _ = auth
    hub = hub_of(websocket)
    conn = Conn(hub, websocket, p, token, None)
    hub.attach(conn)
    try:
        await websocket.send_text(dumps({"type": "ready", "user_id": p.id, "conn_id": conn.id}))
        schedule_expiry(conn)
        conn.start()
        await receive_loop(conn, _handle)
    except WebSocketDisconnect:
        pass  # the peer left before `ready` went out
    except RuntimeError:
        if not conn.closing:  # else: closed by the hub while `ready` waited to go out
            raise
    finally:
        await conn.finish()


# A plain Starlette route (see app/consults/router.py): no dependency machinery held per socket.
router.add_websocket_route("/ws/inbox", inbox, name="inbox")


async def _handle(conn: Conn, frame: dict[str, Any]) -> None:
    error(conn, "unknown-type", "The inbox takes only auth, ping and pong frames.")
