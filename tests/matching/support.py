from typing import Any

from sqlalchemy import select

from app.cases.models import Offer
from app.core.db import sessionmaker
from app.events.models import OutboxEvent

API = "/api/v1"


async def events(type_: str, resource_id: str | None = None) -> list[OutboxEvent]:
    async with sessionmaker()() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.type == type_)
        if resource_id:
            stmt = stmt.where(OutboxEvent.resource_id == resource_id)
        return list((await s.scalars(stmt.order_by(OutboxEvent.id))).all())


async def offers_of(case_id: str) -> list[Offer]:
    async with sessionmaker()() as s:
        return list(
            (
                await s.scalars(
                    select(Offer).where(Offer.case_id == case_id).order_by(Offer.rank, Offer.id)
                )
            ).all()
        )


async def case_status(case_id: str) -> Any:
    from app.cases.models import Case

    async with sessionmaker()() as s:
        return await s.get(Case, case_id)
