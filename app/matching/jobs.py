"""Background passes for matching: offers that lapse pass down the ranking, and new cases
are offered by themselves. All state is in the database (offers carry expires_at), so a
restart loses nothing: the next pass picks up whatever fell due meanwhile.

Each pass is bounded and claims each case with SKIP LOCKED on PostgreSQL, so several
workers share the work and never handle one case twice; it commits case by case.
"""

from datetime import datetime

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.clock import utcnow
from app.core.db import is_postgres, unit_of_work
from app.core.queries import fixed
from app.events.service import emit
from app.matching.offers import offer_next, withdraw_pending
from app.specialists import service as specialists

# How many specialists a new case is offered to at once, by urgency.
AUTO_OFFER_COUNT = {"emergency": 3, "urgent": 2, "routine": 2}


def _skip_locked(stmt: Select[Case], session: AsyncSession) -> Select[Case]:
    return stmt.with_for_update(skip_locked=True) if is_postgres(session) else stmt


async def expire_due(session: AsyncSession, *, batch: int = 50, now: datetime | None = None) -> int:
    """One bounded pass: expire offers past expires_at and re-offer their cases; also
    withdraw offers left pending on cases that are no longer offered (cancelled, say).
    Returns the number of offers handled."""
    now = now or utcnow()
    due_cases = list(
        (
            await session.scalars(
                select(col(Offer.case_id))
                .where(
                    col(Offer.status) == fixed(OfferStatus.pending), col(Offer.expires_at) <= now
                )
                .group_by(col(Offer.case_id))
                .order_by(func.min(col(Offer.expires_at)))
                .limit(batch)
            )
        ).all()
    )
    stale_cases = list(
        (
            await session.scalars(
                select(col(Offer.case_id))
                .join(Case, col(Case.id) == col(Offer.case_id))
                .where(
                    col(Offer.status) == fixed(OfferStatus.pending),
                    col(Case.status) != CaseStatus.offered.value,
                )
                .group_by(col(Offer.case_id))
                .limit(batch)
            )
        ).all()
    )
    handled = 0
    for case_id in dict.fromkeys([*due_cases, *stale_cases]):
        case_row = await session.scalar(
            _skip_locked(select(Case).where(col(Case.id) == case_id), session).execution_options(
                populate_existing=True
            )
        )
        if case_row is None:
            continue  # another worker holds it
        if case_row.status != CaseStatus.offered.value:
            await withdraw_pending(session, case_row.id, case_row.status, now=now)
            await session.commit()
            continue
        expired = (
            await session.execute(
                select(col(Offer.id), col(Offer.specialist_id))
                .where(
                    col(Offer.case_id) == case_id,
                    col(Offer.status) == fixed(OfferStatus.pending),
                    col(Offer.expires_at) <= now,
                )
                .with_for_update()
            )
        ).all()
        for o in expired:
            await session.execute(
                update(Offer)
                .where(col(Offer.id) == o.id)
                .values(status=OfferStatus.expired.value, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            await specialists.record_offer_outcome(session, o.specialist_id, "offers_expired")
            await emit(
                session,
                "offer.expired",
                "offer",
                o.id,
                audience=[o.specialist_id],
                payload={"offer_id": o.id, "case_id": case_id},
            )
            await audit.append(
                session, audit.SERVICE, "offer.expire", "offer", o.id, detail=f"case={case_id}"
            )
        if expired:
            await offer_next(session, case_row, len(expired), None, now)
        await session.commit()
        handled += len(expired)
    return handled


async def auto_offer_new(
    session: AsyncSession, *, batch: int = 20, now: datetime | None = None
) -> int:
    """One bounded pass: every submitted case nobody has been offered yet goes to the top of
    its ranking (or becomes unmatched at once, so a coordinator hears of it)."""
    now = now or utcnow()
    no_offers = ~exists().where(col(Offer.case_id) == col(Case.id))
    ids = list(
        (
            await session.scalars(
                select(col(Case.id))
                .where(col(Case.status) == CaseStatus.submitted.value, no_offers)
                .order_by(col(Case.id))
                .limit(batch)
            )
        ).all()
    )
    done = 0
    for case_id in ids:
        case_row = await session.scalar(
            _skip_locked(
                select(Case).where(
                    col(Case.id) == case_id,
                    col(Case.status) == CaseStatus.submitted.value,
                    no_offers,
                ),
                session,
            ).execution_options(populate_existing=True)
        )
        if case_row is None:
            continue
        await offer_next(session, case_row, AUTO_OFFER_COUNT.get(case_row.urgency, 2), None, now)
        await session.commit()
        done += 1
    return done


async def expire_offers() -> int:
    async with unit_of_work() as session:
        return await expire_due(session)  # the worker logs what each pass did


async def offer_new_cases() -> int:
    async with unit_of_work() as session:
        return await auto_offer_new(session)


JOBS = {"matching.expire_offers": expire_offers, "matching.offer_new_cases": offer_new_cases}
