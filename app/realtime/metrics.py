"""Figures for Prometheus: live sockets this process holds."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.observability import Figure


async def figures(session: AsyncSession, state: Any) -> list[Figure]:
    hub = getattr(state, "hub", None)
    conns = hub.all_conns() if hub is not None else []
    rooms = sum(1 for c in conns if c.case_id is not None)
    return [
        Figure(
            "consult_live_sockets",
            "Live WebSockets open on this process.",
            rooms,
            {"kind": "room"},
        ),
        Figure(
            "consult_live_sockets",
            "Live WebSockets open on this process.",
            len(conns) - rooms,
            {"kind": "inbox"},
        ),
    ]
