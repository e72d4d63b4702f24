"""A specialist answers an offer: the first accept of a case wins; a decline passes the
case down the ranking.

The winner is decided by one conditional UPDATE of the case row (assigned only while it is
still `offered` and unassigned) and its row count, never by reading then writing; then the
offer's own conditional UPDATE (a decline or the expiry pass may have got there first);
then capacity, with the specialist's profile row held so two cases cannot both squeeze in.
"""

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases import lifecycle
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden
from app.core.principal import Principal
from app.core.queries import Statement, fixed, queries
from app.matching.errors import AtCapacity, OfferAlreadyTaken, OfferNotPending
from app.matching.offers import (
    lock_case,
    offer_next,
    read_offer,
    rows_updated,
    withdraw_pending,
)
from app.matching.workload import active_cases
from app.specialists import service as specialists
from app.specialists.models import SpecialistProfile


def _may_answer(p: Principal, specialist_id: str) -> None:
    if not p.is_user or specialist_id != p.id:
        raise Forbidden("Only the specialist it was offered to may answer an offer.")


def _not_pending(status: str, expires_at: datetime, now: datetime) -> Conflict:
    if status == OfferStatus.pending.value and expires_at <= now:
        return OfferNotPending("The offer has expired.", offer_status="expired")
    return OfferNotPending(f"The offer is {status}.", offer_status=status)


# The accept is a specialist's one click that settles a case: its statements run on the fast
# lane (app.core.queries), each compiled once, the offer read with its case's facts as the
# inbox reads them. The UPDATE that decides the winner also moves the case to `assigned`
# (what the lifecycle writes for it, `columns_written`), so the row is written once: loading
# it into the ORM and writing it again cost the accept ~0.3 ms in-process on SQLite.
_CASE_T: Any = Case.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_OFFER_T: Any = Offer.__table__  # type: ignore[attr-defined]
_PROFILE_T: Any = SpecialistProfile.__table__  # type: ignore[attr-defined]
_WIN_CASE = Statement(
    update(_CASE_T)
    .where(
        _CASE_T.c.id == bindparam("case_id"),
        _CASE_T.c.status == CaseStatus.offered.value,
        _CASE_T.c.assigned_specialist_id.is_(None),
    )
    .values(
        {
            **{name: bindparam("now") for name in lifecycle.columns_written(CaseStatus.assigned)},
            "assigned_specialist_id": bindparam("me"),
            "status": CaseStatus.assigned.value,
            "version": _CASE_T.c.version + 1,
        }
    )
    .returning(
        _CASE_T.c.id,
        _CASE_T.c.organization_id,
        _CASE_T.c.submitted_by_id,
        _CASE_T.c.assigned_specialist_id,
    )
)


class _Won(NamedTuple):
    """The case as the winning UPDATE returned it: what its event names."""

    id: str
    organization_id: str
    submitted_by_id: str | None
    assigned_specialist_id: str | None


_CLAIM_OFFER = Statement(
    update(_OFFER_T)
    .where(
        _OFFER_T.c.id == bindparam("offer_id"),
        _OFFER_T.c.status == fixed(OfferStatus.pending),
        _OFFER_T.c.expires_at > bindparam("now"),
    )
    .values(
        status=OfferStatus.accepted.value,
        responded_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .returning(_OFFER_T.c.id)
)
# Capacity: the profile row held first (FOR UPDATE on PostgreSQL; SQLite's writer already
# holds the whole database), then her open cases counted by a statement of their own. On
# PostgreSQL a statement sees what had committed when it began: a count in the locking
# statement would miss a case that another accept of hers committed while this one waited.
_HOLD_PROFILE = Statement(
    select(_PROFILE_T.c.max_active_cases)
    .where(_PROFILE_T.c.user_id == bindparam("me"))
    .with_for_update(of=_PROFILE_T)
)
_ACTIVE = Statement(select(active_cases(bindparam("me"))))


async def accept(
    session: AsyncSession, p: Principal, offer_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """The accepted offer with its case's facts, as an offer is read (`read_offer`). The
    case is moved by a fast-lane UPDATE: a Case the caller's session already holds is not
    told (requests and jobs load none before an accept)."""
    now = now or utcnow()
    offer = await read_offer(session, p, offer_id)
    _may_answer(p, offer["specialist_id"])
    if offer["status"] != OfferStatus.pending.value or offer["expires_at"] <= now:
        raise _not_pending(offer["status"], offer["expires_at"], now)
    db = await queries(session)
    # 1. The case: whoever's UPDATE matches first wins (and moves it); the others change no row.
    won = await db.fetchrow(_WIN_CASE, {"case_id": offer["case_id"], "me": p.id, "now": db.ts(now)})
    if won is None:
        raise OfferAlreadyTaken("Another specialist accepted this case first.")
    case = _Won(*won)
    # 2. The offer itself (a decline or the expiry job may have got there first).
    if await db.fetchrow(_CLAIM_OFFER, {"offer_id": offer_id, "now": db.ts(now)}) is None:
        found = await read_offer(session, p, offer_id)
        raise _not_pending(found["status"], found["expires_at"], now)
    # What the UPDATE wrote, told to the offer read above without another read.
    offer.update(status=OfferStatus.accepted.value, responded_at=now, updated_at=now)
    # 3. Capacity, with the specialist's profile row held so two cases cannot both squeeze in.
    held = await db.fetchrow(_HOLD_PROFILE, {"me": p.id})
    counted = await db.fetchrow(_ACTIVE, {"me": p.id})
    before = int(counted[0]) - 1 if counted is not None else 0  # the count holds this case
    if held is None or before >= int(held[0]):
        raise AtCapacity(
            "You already have as many active cases as your profile allows.",
            active_cases=before,
            max_active_cases=int(held[0]) if held is not None else 0,
        )
    await specialists.record_offer_outcome(session, p.id, "offers_accepted", assigned_at=now)
    assigned, offered = CaseStatus.assigned, CaseStatus.offered.value
    await lifecycle.moved(session, case, assigned, offered, p.id, offer_id=offer_id)
    await withdraw_pending(session, case.id, assigned.value, keep=offer_id, now=now)
    await audit.append(session, p, "offer.accept", "offer", offer_id, detail=f"case={case.id}")
    offer["case"]["status"] = assigned.value
    return offer


async def decline(
    session: AsyncSession,
    p: Principal,
    offer_id: str,
    reason: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The declined offer with its case's facts, as an offer is read (`read_offer`)."""
    now = now or utcnow()
    offer = await read_offer(session, p, offer_id)
    _may_answer(p, offer["specialist_id"])
    case_row = await lock_case(session, offer["case_id"])
    done = await rows_updated(
        session,
        update(Offer)
        .where(
            col(Offer.id) == offer_id,
            col(Offer.status) == fixed(OfferStatus.pending),
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
        found = await read_offer(session, p, offer_id)
        raise _not_pending(found["status"], found["expires_at"], now)
    await specialists.record_offer_outcome(session, p.id, "offers_declined")
    if case_row.status == CaseStatus.offered.value:
        await offer_next(session, case_row, 1, None, now)
    await audit.append(session, p, "offer.decline", "offer", offer_id, detail=f"case={case_row.id}")
    return await read_offer(session, p, offer_id)  # the case may have moved on (offer_next)
