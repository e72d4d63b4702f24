"""What every live socket shares: Origin check, auth as the first frame, the receive loop
with its limits (frame size, ping/pong, token expiry). No database session is held
between frames: each frame that needs one opens its own."""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect

from app.core.clock import clock
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.core.deps import resolve_principal
from app.core.errors import Unauthorized
from app.core.principal import Principal
from app.realtime import codes
from app.realtime.hub import Conn, Hub

log = logging.getLogger("app.realtime")

_admissions = asyncio.Semaphore(get_settings().ws_admission_concurrency)


def hub_of(ws: WebSocket) -> Hub:
    return ws.app.state.hub  # type: ignore[no-any-return]


def origin_allowed(ws: WebSocket) -> bool:
    """Browsers always send Origin; other clients usually do not. With WS_ALLOWED_ORIGINS
    empty, only same-host pages (and clients sending no Origin) may open a socket."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    allowed = get_settings().ws_allowed_origins
    if allowed:
        return "*" in allowed or origin.rstrip("/") in {a.rstrip("/") for a in allowed}
    host = ws.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


async def close(ws: WebSocket, code_reason: tuple[int, str]) -> None:
    with contextlib.suppress(Exception):
        await ws.close(*code_reason)


async def read_frame(ws: WebSocket) -> dict[str, Any] | None | tuple[int, str]:
    """One client frame as a dict; None when the peer left; a close code when it must go."""
    msg = await ws.receive()
    if msg["type"] == "websocket.disconnect":
        return None
    raw = msg.get("text")
    if raw is None and msg.get("bytes") is not None:
        raw = msg["bytes"].decode("utf-8", "replace")
    if raw is None:
        return {}
    if len(raw) > get_settings().ws_max_frame_bytes:
        return codes.FRAME_TOO_LARGE
    try:
        data = json.loads(raw)
    except ValueError:
        return {"type": "__invalid__"}
    return data if isinstance(data, dict) else {"type": "__invalid__"}


Admit = Callable[[AsyncSession, Principal, str], Awaitable[Any]]


async def authenticate(
    ws: WebSocket, admit: Admit | None = None
) -> tuple[Principal, str, dict[str, Any], Any] | None:
    """Accept, then require {"type": "auth", "token": ...} in time; `admit(session,
    principal, token)` decides, in the same short transaction, whether this principal may
    have the socket (None: refused, the socket is closed 4404). Returns None when the socket
    was already closed."""
    if not origin_allowed(ws):
        await ws.close(*codes.ORIGIN_REFUSED)  # before accept: the handshake gets 403
        return None
    await ws.accept()
    rs = get_settings()
    try:
        async with asyncio.timeout(rs.ws_auth_timeout_seconds):
            first = await read_frame(ws)
    except TimeoutError:
        await close(ws, codes.AUTH_TIMEOUT)
        return None
    except WebSocketDisconnect:
        return None
    if first is None:
        return None
    if isinstance(first, tuple):
        await close(ws, first)
        return None
    if first.get("type") != "auth":
        await close(ws, codes.BAD_FIRST_FRAME)
        return None
    token = first.get("token")
    if not isinstance(token, str) or not token or len(token) > 4096:
        await close(ws, codes.UNAUTHORIZED)
        return None
    ip = ws.client.host if ws.client else None
    admitted: Any = True
    try:
        # A burst of reconnects (a clinic's link returning) queues here instead of holding
        # a session and its buffers each: the database serves them one short transaction
        # at a time anyway.
        async with _admissions, unit_of_work() as s:
            p = await resolve_principal(s, token, ip)
            if admit is not None:
                admitted = await admit(s, p, token)
    except Unauthorized:
        await close(ws, codes.UNAUTHORIZED)
        return None
    if admitted is None:
        await close(ws, codes.NOT_FOUND)
        return None
    return p, token, first, admitted


def schedule_expiry(conn: Conn) -> None:
    """Disconnect when the access token expires (a new `auth` frame extends it)."""
    conn.cancel_timers()
    delay = max(0.0, conn.principal.exp - clock.wall())
    conn.expiry = asyncio.get_running_loop().call_later(delay, conn.kill, *codes.SESSION_ENDED)


async def reauth(conn: Conn, frame: dict[str, Any]) -> None:
    token = frame.get("token")
    try:
        if not isinstance(token, str):
            raise Unauthorized()
        async with unit_of_work() as s:
            p = await resolve_principal(s, token, conn.principal.ip)
    except Unauthorized:
        conn.kill(*codes.UNAUTHORIZED)
        return
    if p.id != conn.principal.id:
        conn.send_soon(
            {
                "type": "error",
                "code": "other-user",
                "detail": "A socket stays with the user who opened it.",
            }
        )
        return
    conn.principal, conn.token = p, token
    schedule_expiry(conn)
    conn.send_soon({"type": "auth", "status": "ok", "expires_at": p.exp})


Handler = Callable[[Conn, dict[str, Any]], Awaitable[None]]


async def receive_loop(conn: Conn, handle: Handler) -> None:
    """Read frames until the peer leaves or the socket is closed; ping the silent ones."""
    rs = get_settings()
    ws = conn.ws
    awaiting_pong = False
    while not conn.closing:
        if not conn.ready:
            wait = conn.hub.resume_wait  # WS_RESUME_WAIT_SECONDS, as the hub holds frames
        else:
            wait = rs.ws_ping_timeout_seconds if awaiting_pong else rs.ws_ping_interval_seconds
        try:
            async with asyncio.timeout(wait):
                frame = await read_frame(ws)
        except TimeoutError:
            if not conn.ready:
                conn.start()  # no resume came: live traffic from `last_seq` on
            elif awaiting_pong:
                conn.kill(*codes.PING_TIMEOUT)
            else:
                awaiting_pong = True
                conn.send_soon({"type": "ping"})
            continue
        except (WebSocketDisconnect, RuntimeError):
            return
        if frame is None:
            return
        if isinstance(frame, tuple):
            conn.kill(*frame)
            return
        awaiting_pong = False
        if conn.checked != conn.stale and not await _still_signed_in(conn):
            return  # the frame is refused: its token was revoked (closed 4401)
        kind = frame.get("type")
        if kind == "pong":
            continue
        if kind == "ping":
            conn.send_soon({"type": "pong"})
        elif kind == "auth":
            await reauth(conn, frame)
        else:
            await handle(conn, frame)
        if not conn.ready:
            conn.start()


async def _still_signed_in(conn: Conn) -> bool:
    """A revocation of this socket's subject was heard: check its token before the frame."""
    try:
        await conn.hub.recheck([conn])
    except Exception as e:
        # Unchecked is not admitted: the client reconnects (and signs in) when it can.
        log.warning("socket %s: token check failed: %r", conn.id, e)
        conn.kill(*codes.INTERNAL)
    return not conn.closing


def error(conn: Conn, code: str, detail: str, **extra: Any) -> None:
    conn.send_soon({"type": "error", "code": code, "detail": detail, **extra})
