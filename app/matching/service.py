"""Offers: proposing a case to specialists, the first accept winning, re-offering down the
ranking on decline or expiry, and `unmatched` when nobody is left.

Concurrency, on SQLite and PostgreSQL alike:
- the winner is decided by one conditional UPDATE of the case row (assigned only while it
  is still `offered` and unassigned) and its row count, never by reading then writing;
- every path that changes a case's offers takes the case row first, then offers, then the
  specialist's profile, so two paths never wait on each other in opposite orders.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.cases import lifecycle
from app.cases.access import can_act_as_local, full_access, is_staff
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.config import get_settings
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role
from app.events.service import emit
from app.matching import scoring
from app.matching.ranking import Ranking, rank
from app.matching.workload import active_cases
from app.specialists import service as specialists
from app.specialists.models import SpecialistProfile

OFFERABLE = (CaseStatus.submitted.value, CaseStatus.offered.value, CaseStatus.unmatched.value)
# How many specialists a new case is offered to at once, by urgency.
AUTO_OFFER_COUNT = {"emergency": 3, "urgent": 2, "routine": 2}


class OfferNotFound(NotFound):
    """No such offer, or the caller may not see it."""


class OfferAlreadyTaken(Conflict):
    """Another specialist accepted this case first."""

    code = "offer-already-taken"


class OfferNotPending(Conflict):
    """The offer was already accepted, declined, withdrawn or has expired."""

    code = "offer-not-pending"


class AtCapacity(Conflict):
    """The specialist already has as many active cases as their profile allows."""

    code = "at-capacity"


class CaseNotOfferable(Conflict):
    """Only a submitted, offered or unmatched case can be offered."""

    code = "case-not-offerable"


class InvalidOfferTarget(Unprocessable):
    """A chosen specialist cannot be offered this case."""

    code = "invalid-offer-target"


# ---------------------------------------------------------------- visibility


def visible_offers(p: Principal) -> Any:
    """A specialist sees their own offers; staff all; a facility those of its cases."""
    if p.kind == "user" and p.role in (Role.specialist, Role.interpreter):
        return col(Offer.specialist_id) == p.id
    if is_staff(p):
        return col(Offer.id).is_not(None)  # type: ignore[union-attr]
    return exists().where(col(Case.id) == col(Offer.case_id), full_access(p))


def may_see_candidates(p: Principal, case_row: Case) -> bool:
    if is_staff(p):
        return True
    if p.kind == "client":
        return p.organization_id == case_row.organization_id and p.has_scope("cases:read")
    return p.role == Role.clinician and p.organization_id == case_row.organization_id


# ---------------------------------------------------------------- reads


async def candidates(
    session: AsyncSession,
    p: Principal,
    case_row: Case,
    *,
    limit: int,
    explain: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    if not may_see_candidates(p, case_row):
        raise Forbidden("Only coordinators and the case's own facility see its candidates.")
    ranking = await rank(session, case_row, limit=limit, explain=explain, now=now)
    offered = dict(
        (
            await session.execute(
                select(col(Offer.specialist_id), col(Offer.status)).where(
                    col(Offer.case_id) == case_row.id
                )
            )
        ).all()
    )
    await audit.append(session, p, "case.candidates", "case", case_row.id)
    return {
        "case_id": case_row.id,
        "specialty": case_row.specialty,
        "weights": dict(scoring.WEIGHTS),
        "items": [_candidate(c, offered.get(c.specialist_id)) for c in ranking.candidates],
        "excluded": [
            {"specialist_id": e.specialist_id, "name": e.name, "reasons": e.reasons}
            for e in ranking.excluded
        ]
        if explain
        else None,
        "excluded_total": ranking.excluded_total if explain else None,
    }


def _candidate(c: Any, offer_status: str | None) -> dict[str, Any]:
    f = c.features
    return {
        "specialist_id": c.specialist_id,
        "name": c.name,
        "timezone": c.timezone,
        "score": round(c.score, 4),
        "parts": {"specialty": 1.0, **{k: round(v, 4) for k, v in c.parts.items()}},
        "interpreter_needed": c.interpreter_needed,
        "available_now": f.minutes_to_window == 0,
        "next_window_in_minutes": f.minutes_to_window,
        "active_cases": f.active_cases,
        "max_active_cases": f.max_active_cases,
        "offer_status": offer_status,
    }


async def list_offers(
    session: AsyncSession,
    p: Principal,
    *,
    status: str | None,
    case_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Offer], str | None]:
    stmt = select(Offer).where(visible_offers(p))
    if status:
        stmt = stmt.where(col(Offer.status) == status)
    if case_id:
        stmt = stmt.where(col(Offer.case_id) == case_id)
    return await keyset_page(session, stmt, col(Offer.id), limit, cursor)


async def get_offer(session: AsyncSession, p: Principal, offer_id: str) -> Offer:
    offer = await session.scalar(select(Offer).where(col(Offer.id) == offer_id, visible_offers(p)))
    if offer is None:
        raise OfferNotFound("No such offer.")
    return offer


async def cases_for(session: AsyncSession, offers: list[Offer]) -> dict[str, dict[str, Any]]:
    """The few case facts an inbox shows beside each offer (no patient data)."""
    ids = {o.case_id for o in offers}
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(
                col(Case.id),
                col(Case.specialty),
                col(Case.urgency),
                col(Case.respond_by),
                col(Case.status),
            ).where(col(Case.id).in_(ids))
        )
    ).all()  # type: ignore[attr-defined]
    return {
        r.id: {
            "id": r.id,
            "specialty": r.specialty,
            "urgency": r.urgency,
            "respond_by": r.respond_by,
            "status": r.status,
        }
        for r in rows
    }


# ---------------------------------------------------------------- making offers


async def _lock_case(session: AsyncSession, case_id: str) -> Case:
    case_row = await session.scalar(
        select(Case)
        .where(col(Case.id) == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case_row is None:
        raise NotFound("No such case.")
    return case_row


async def _offered_ids(session: AsyncSession, case_id: str) -> list[str]:
    return list(
        (
            await session.scalars(
                select(col(Offer.specialist_id)).where(col(Offer.case_id) == case_id)
            )
        ).all()
    )


async def _pending_count(session: AsyncSession, case_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(col(Offer.case_id) == case_id, col(Offer.status) == OfferStatus.pending.value)
        )
        or 0
    )


async def _create(
    session: AsyncSession,
    case_row: Case,
    ranking: Ranking,
    actor: Principal | None,
    now: datetime,
    first_rank: int,
) -> list[Offer]:
    minutes = get_settings().offer_expiry_minutes.get(case_row.urgency, 120)
    offers = []
    for i, c in enumerate(ranking.candidates):
        o = Offer(
            case_id=case_row.id,
            specialist_id=c.specialist_id,
            rank=first_rank + i,
            score=round(c.score, 6),
            score_parts={k: round(v, 6) for k, v in c.parts.items()},
            interpreter_needed=c.interpreter_needed,
            offered_by_id=actor.id if actor else None,
            expires_at=now + timedelta(minutes=minutes),
            created_at=now,
            updated_at=now,
        )
        session.add(o)
        offers.append(o)
    await session.flush()
    for o in offers:
        await emit(
            session,
            "offer.created",
            "offer",
            o.id,
            audience=[o.specialist_id],
            payload={
                "offer_id": o.id,
                "case_id": case_row.id,
                "specialty": case_row.specialty,
                "urgency": case_row.urgency,
                "expires_at": o.expires_at.isoformat(),
                "interpreter_needed": o.interpreter_needed,
            },
        )
    if offers and case_row.status != CaseStatus.offered.value:
        await lifecycle.transition(
            session,
            case_row,
            CaseStatus.offered,
            actor.id if actor else None,
            offer_ids=[o.id for o in offers],
        )
    for o in offers:
        await audit.append(
            session,
            actor,
            "offer.create",
            "offer",
            o.id,
            detail=f"case={case_row.id} specialist={o.specialist_id}",
        )
    return offers


async def _notify_unmatched(session: AsyncSession, case_row: Case, actor_id: str | None) -> None:
    await lifecycle.transition(session, case_row, CaseStatus.unmatched, actor_id)
    coordinators = list(
        (
            await session.scalars(
                select(col(User.id)).where(
                    col(User.role) == Role.coordinator.value, col(User.active)
                )
            )
        ).all()
    )
    await emit(
        session,
        "matching.unmatched",
        "case",
        case_row.id,
        audience=coordinators,
        payload={
            "case_id": case_row.id,
            "specialty": case_row.specialty,
            "urgency": case_row.urgency,
            "organization_id": case_row.organization_id,
            "respond_by": case_row.respond_by.isoformat(),
        },
    )


async def offer_next(
    session: AsyncSession,
    case_row: Case,
    count: int,
    actor: Principal | None = None,
    now: datetime | None = None,
) -> list[Offer]:
    """Offer the case (already locked by the caller) to the next `count` candidates down the
    ranking; when nobody is left and nothing is pending, the case becomes unmatched."""
    now = now or utcnow()
    taken = await _offered_ids(session, case_row.id)
    ranking = await rank(session, case_row, limit=count, exclude_ids=taken, now=now)
    offers = await _create(session, case_row, ranking, actor, now, first_rank=len(taken) + 1)
    if (
        not offers
        and case_row.status != CaseStatus.unmatched.value
        and await _pending_count(session, case_row.id) == 0
    ):
        await _notify_unmatched(session, case_row, actor.id if actor else None)
    return offers


async def create_offers(
    session: AsyncSession,
    p: Principal,
    case_id: str,
    *,
    auto: bool,
    count: int,
    specialist_ids: list[str] | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    case_row = await _lock_case(session, case_id)
    if specialist_ids:
        if not is_staff(p):
            raise Forbidden("Only a coordinator chooses specialists; ask for auto offers.")
    elif not (is_staff(p) or can_act_as_local(p, case_row)):
        raise Forbidden("Only coordinators and the case's own facility send offers.")
    if case_row.status not in OFFERABLE:
        raise CaseNotOfferable(
            f"A case that is {case_row.status} cannot be offered.", current_status=case_row.status
        )
    if auto:
        offers = await offer_next(session, case_row, count, p, now)
    else:
        offers = await _offer_chosen(session, p, case_row, specialist_ids or [], now)
    return {"case_id": case_row.id, "case_status": case_row.status, "items": offers}


async def _offer_chosen(
    session: AsyncSession, p: Principal, case_row: Case, ids: list[str], now: datetime
) -> list[Offer]:
    ids = list(dict.fromkeys(ids))
    taken = set(await _offered_ids(session, case_row.id))
    ranking = await rank(
        session, case_row, limit=len(ids), only_ids=ids, exclude_ids=taken, now=now, explain=True
    )
    eligible = {c.specialist_id for c in ranking.candidates}
    reasons = {e.specialist_id: e.reasons for e in ranking.excluded}
    errors = []
    for i, sid in enumerate(ids):
        if sid in eligible:
            continue
        if sid in reasons:
            detail = "cannot take this case: " + ", ".join(reasons[sid])
        else:
            detail = f"not a known specialist in {case_row.specialty}"
        errors.append({"pointer": f"/specialist_ids/{i}", "detail": detail})
    if errors:
        raise InvalidOfferTarget(
            "Some chosen specialists cannot be offered this case.", errors=errors
        )
    return await _create(session, case_row, ranking, p, now, first_rank=len(taken) + 1)


# ---------------------------------------------------------------- answering offers


async def _own_offer(session: AsyncSession, p: Principal, offer_id: str) -> Offer:
    offer = await get_offer(session, p, offer_id)
    if p.kind != "user" or offer.specialist_id != p.id:
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
    won = await session.execute(
        update(Case)
        .where(
            col(Case.id) == offer.case_id,
            col(Case.status) == CaseStatus.offered.value,
            col(Case.assigned_specialist_id).is_(None),
        )  # type: ignore[union-attr]
        .values(assigned_specialist_id=p.id)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise OfferAlreadyTaken("Another specialist accepted this case first.")
    # 2. The offer itself (a decline or the expiry job may have got there first).
    claimed = await session.execute(
        update(Offer)
        .where(
            col(Offer.id) == offer.id,
            col(Offer.status) == OfferStatus.pending.value,
            col(Offer.expires_at) > now,
        )
        .values(status=OfferStatus.accepted.value, responded_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
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
    await _withdraw_others(session, case_row, keep=offer.id, now=now)
    await session.flush()
    await session.refresh(offer)
    await audit.append(session, p, "offer.accept", "offer", offer.id, detail=f"case={case_row.id}")
    return offer


async def withdraw_pending(session: AsyncSession, case_row: Case) -> None:
    """Withdraw every offer still pending on a case that is no longer offered (cancelled),
    in the caller's transaction: its specialists stop seeing the case at once."""
    await _withdraw_others(session, case_row, keep=None, now=utcnow())


async def _withdraw_others(
    session: AsyncSession, case_row: Case, keep: str | None, now: datetime
) -> None:
    rows = (
        await session.execute(
            select(col(Offer.id), col(Offer.specialist_id)).where(
                col(Offer.case_id) == case_row.id,
                col(Offer.status) == OfferStatus.pending.value,
                col(Offer.id) != keep,
            )
        )
    ).all()
    if not rows:
        return
    await session.execute(
        update(Offer)
        .where(col(Offer.id).in_([r.id for r in rows]))  # type: ignore[attr-defined]
        .values(status=OfferStatus.withdrawn.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    for r in rows:
        await emit(
            session,
            "offer.withdrawn",
            "offer",
            r.id,
            audience=[r.specialist_id],
            payload={"offer_id": r.id, "case_id": case_row.id, "case_status": case_row.status},
        )


async def decline(
    session: AsyncSession,
    p: Principal,
    offer_id: str,
    reason: str | None,
    now: datetime | None = None,
) -> Offer:
    now = now or utcnow()
    offer = await _own_offer(session, p, offer_id)
    case_row = await _lock_case(session, offer.case_id)
    done = await session.execute(
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
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(offer)
        raise _not_pending(offer, now)
    await specialists.record_offer_outcome(session, p.id, "offers_declined")
    if case_row.status == CaseStatus.offered.value:
        await offer_next(session, case_row, 1, None, now)
    await session.refresh(offer)
    await audit.append(session, p, "offer.decline", "offer", offer.id, detail=f"case={case_row.id}")
    return offer


# ---------------------------------------------------------------- background passes


def _skip_locked(stmt: Any, session: AsyncSession) -> Any:
    from app.core.db import is_postgres

    return stmt.with_for_update(skip_locked=True) if is_postgres(session) else stmt


async def expire_due(session: AsyncSession, *, batch: int = 50, now: datetime | None = None) -> int:
    """One bounded pass: expire offers past expires_at and re-offer their cases; also
    withdraw offers left pending on cases that are no longer offered (cancelled, say).
    Returns the number of offers handled. Each case is claimed with SKIP LOCKED, so
    several workers share the work and never handle one case twice."""
    now = now or utcnow()
    due_cases = list(
        (
            await session.scalars(
                select(col(Offer.case_id))
                .where(col(Offer.status) == OfferStatus.pending.value, col(Offer.expires_at) <= now)
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
                    col(Offer.status) == OfferStatus.pending.value,
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
            await _withdraw_others(session, case_row, keep=None, now=now)
            await session.commit()
            continue
        expired = (
            await session.execute(
                select(col(Offer.id), col(Offer.specialist_id))
                .where(
                    col(Offer.case_id) == case_id,
                    col(Offer.status) == OfferStatus.pending.value,
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
                session, None, "offer.expire", "offer", o.id, detail=f"case={case_id}"
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
