import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from app.core.db import sessionmaker
from app.events.models import OutboxEvent
from app.events.service import emit
from app.partners.dispatcher import deliver_due, fanout
from app.partners.feed import watermark


async def commit_event(
    type: str,
    organization_id: str | None,
    resource_id: str = "case_x",
    resource_type: str = "case",
    audience: list[str] | None = None,
    **payload: Any,
) -> int:
    async with sessionmaker()() as s:
        ev = await emit(
            s,
            type,
            resource_type,
            resource_id,
            organization_id=organization_id,
            audience=audience,
            payload={"case_id": resource_id, **payload},
        )
        await s.commit()
        return int(ev.id or 0)


async def caught_up(within: float = 5.0) -> None:
    """Wait until the watermark has passed every committed event (writers have ended)."""
    async with sessionmaker()() as s:
        top = int(await s.scalar(select(func.max(OutboxEvent.id))) or 0)
    deadline = asyncio.get_running_loop().time() + within
    while await watermark() < top:
        assert asyncio.get_running_loop().time() < deadline, "watermark stuck"
        await asyncio.sleep(0.02)


async def dispatch(http: httpx.AsyncClient, passes: int = 3) -> int:
    """Run the dispatcher's two steps until nothing is left to do; returns attempts made."""
    await caught_up()
    sent = 0
    for _ in range(passes):
        fanned = await fanout()
        n = await deliver_due(http)
        sent += n
        if n == 0 and fanned == 0:
            break
    return sent


async def subscribe(
    client: Any, headers: dict[str, str], url: str, events: list[str]
) -> dict[str, Any]:
    r = await client.post("/api/v1/webhooks", headers=headers, json={"url": url, "events": events})
    assert r.status_code == 201, r.text
    return r.json()
