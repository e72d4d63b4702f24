"""A specialist answers an offer: the first accept of a case wins; a decline passes the
case down the ranking.

The winner is decided by one conditional UPDATE of the case row (assigned only while it is
still `offered` and unassigned) and its row count, never by reading then writing; then the
offer's own conditional UPDATE (a decline or the expiry pass may have got there first);
then capacity, with the specialist's profile row held so two cases cannot both squeeze in.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases import lifecycle
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden
from app.core.principal import Principal
from app.matching.errors import AtCapacity, OfferAlreadyTaken, OfferNotPending
from app.matching.offers import get_offer, lock_case, offer_next, rows_updated, withdraw_pending
from app.matching.workload import active_cases
from app.specialists import service as specialists
from app.specialists.models import SpecialistProfile


async def _own_offer(session: AsyncSession, p: Principal, offer_id: str) -> Offer:
    offer = await get_offer(session, p, offer_id)
    if not p.is_user or offer.specialist_id != p.id:
        raise Forbidden("Only the specialist it was offered to may answer an offer.")
    return offer


def _not_pending(offer: Offer, now: datetime) -> Conflict:
    if offer.status == OfferStatus.pending.value and offer.expires_at <= now:
        return OfferNotPending("The offer has expired.", offer_status="expired")
    return OfferNotPending(f"The offer is {offer.status}.", offer_status=offer.status)


async def accept(
    session: AsyncSession, p: Principal, offer_id: str, now: datetime | None = None
) -> Offer:
    now = now or utcnow()
    offer = await _own_offer(session, p, offer_id)
    if offer.status != OfferStatus.pending.value or offer.expires_at <= now:
        raise _not_pending(offer, now)
    # 1. The case: whoever's UPDATE matches first wins; the others see rowcount 0.
    won = await rows_updated(
        session,
        update(Case)
        .where(
            col(Case.id) == offer.case_id,
            col(Case.status) == CaseStatus.offered.value,
            col(Case.assigned_specialist_id).is_(None),
        )
        .values(assigned_specialist_id=p.id)
        .execution_options(synchronize_session=False),
    )
    if won != 1:
        raise OfferAlreadyTaken("Another specialist accepted this case first.")
    # 2. The offer itself (a decline or the expiry job may have got there first).
    claimed = await rows_updated(
        session,
        update(Offer)
        .where(
            col(Offer.id) == offer.id,
            col(Offer.status) == OfferStatus.pending.value,
            col(Offer.expires_at) > now,
        )
        .values(status=OfferStatus.accepted.value, responded_at=now, updated_at=now)
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        await session.refresh(offer)
        raise _not_pending(offer, now)
    # 3. Capacity, with the specialist's profile row held so two cases cannot both squeeze in.
    profile = await session.scalar(
        select(SpecialistProfile).where(col(SpecialistProfile.user_id) == p.id).with_for_update()
    )
    active = int(await session.scalar(select(active_cases(p.id))) or 0)
    if profile is None or active >= profile.max_active_cases:
        raise AtCapacity(
            "You already have as many active cases as your profile allows.",
            active_cases=active,
            max_active_cases=profile.max_active_cases if profile else 0,
        )
    await specialists.record_offer_outcome(session, p.id, "offers_accepted", assigned_at=now)
    case_row = await session.scalar(
        select(Case).where(col(Case.id) == offer.case_id).execution_options(populate_existing=True)
    )
    assert case_row is not None
    await lifecycle.transition(session, case_row, CaseStatus.assigned, p.id, offer_id=offer.id)
    case_row.assigned_at = now
    await withdraw_pending(session, case_row, keep=offer.id, now=now)
    await session.flush()
    await session.refresh(offer)
    await audit.append(session, p, "offer.accept", "offer", offer.id, detail=f"case={case_row.id}")
    return offer


async def decline(
    session: AsyncSession,
    p: Principal,
    offer_id: str,
    reason: str | None,
    now: datetime | None = None,
) -> Offer:
    now = now or utcnow()
    offer = await _own_offer(session, p, offer_id)
    case_row = await lock_case(session, offer.case_id)
    done = await rows_updated(
        session,
        update(Offer)
        .where(
            col(Offer.id) == offer.id,
            col(Offer.status) == OfferStatus.pending.value,
            col(Offer.expires_at) > now,
        )
        .values(
            status=OfferStatus.declined.value,
            responded_at=now,
            updated_at=now,
            decline_reason=reason,
        )
        .execution_options(synchronize_session=False),
    )
    if done != 1:
        await session.refresh(offer)
        raise _not_pending(offer, now)
    await specialists.record_offer_outcome(session, p.id, "offers_declined")
    if case_row.status == CaseStatus.offered.value:
        await offer_next(session, case_row, 1, None, now)
    await session.refresh(offer)
    await audit.append(session, p, "offer.decline", "offer", offer.id, detail=f"case={case_row.id}")
    return offer
