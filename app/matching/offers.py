"""Offers: who sees which, proposing a case down its ranking (or to chosen specialists),
`unmatched` when nobody is left, and withdrawing the offers a case no longer needs.

Concurrency, on SQLite and PostgreSQL alike: every path that changes a case's offers takes
the case row first (`lock_case`), then offers, then the specialist's profile, so two paths
never wait on each other in opposite orders.
"""

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Update,
    bindparam,
    exists,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.cases import lifecycle
from app.cases.access import access_params, access_shape, can_act_as_local, full_access
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import flush_orm
from app.core.errors import Forbidden, NotFound
from app.core.pagination import decode_cursor, page_of
from app.core.principal import Principal, Role
from app.core.queries import Statement, fixed, queries
from app.events.service import emit
from app.matching.errors import CaseNotOfferable, InvalidOfferTarget, OfferNotFound
from app.matching.ranking import Ranking, rank

OFFERABLE = (CaseStatus.submitted.value, CaseStatus.offered.value, CaseStatus.unmatched.value)


async def rows_updated(session: AsyncSession, stmt: Update) -> int:
    """How many rows a conditional UPDATE changed: who won a race is decided by this count,
    never by reading then writing. (`execute` is typed as returning a Result; an UPDATE
    gives a CursorResult.)"""
    return cast(CursorResult[Any], await session.execute(stmt)).rowcount


# ---------------------------------------------------------------- who sees which offer


def _own_offers_only(p: Principal) -> bool:
    return p.is_user and p.role in (Role.specialist, Role.interpreter)


def visible_offers(p: Principal) -> ColumnElement[bool]:
    """A specialist sees their own offers; staff all; a facility those of its cases. The
    principal's values are named parameters (app.cases.access.access_params), so a
    statement built from this rule serves every principal of the same shape."""
    if _own_offers_only(p):
        return col(Offer.specialist_id) == bindparam("acc_me", p.id)
    if p.is_staff:
        return true()
    return exists().where(col(Case.id) == col(Offer.case_id), full_access(p))


_OFFER: Any = Offer.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_CASE: Any = Case.__table__  # type: ignore[attr-defined]
# The list's cursors, as keyset_page names them (its table and key column).
_CURSOR = "offer.id"
_inbox_sql: dict[tuple[Any, ...], Statement] = {}
# The few case facts an inbox shows beside each offer (no patient data): the facility's id
# lets the inbox say where the case comes from and what time it is there.
_CASE_FACTS = ("id", "organization_id", "specialty", "urgency", "respond_by", "status")


def _inbox_statement(
    dialect: str, p: Principal, filters: tuple[OfferStatus | None, bool, bool, bool]
) -> Statement:
    """Offers under the rule above with their case's facts, newest first; built once per
    shape of principal and filters (building it cost more than running it). The same
    statement, by id, reads one offer (`read_offer`)."""
    key = (dialect, access_shape(p), filters)
    found = _inbox_sql.get(key)
    if found is None:
        stmt = (
            select(
                *_OFFER.columns,
                *(_CASE.c[name].label(f"case_{name}") for name in _CASE_FACTS),
            )
            .join_from(_OFFER, _CASE, _CASE.c.id == _OFFER.c.case_id)
            # visible_offers, with the case already joined: a facility's rule is the case's
            .where(full_access(p) if not (p.is_staff or _own_offers_only(p)) else visible_offers(p))
        )
        by_status, by_case, after, by_id = filters
        if by_id:
            stmt = stmt.where(_OFFER.c.id == bindparam("f_id"))
        if by_status is not None:
            # Written in (app.core.queries.fixed): one statement per status, five at most.
            stmt = stmt.where(_OFFER.c.status == fixed(by_status))
        if by_case:
            stmt = stmt.where(_OFFER.c.case_id == bindparam("f_case"))
        if after:
            stmt = stmt.where(_OFFER.c.id < bindparam("after"))
        stmt = stmt.order_by(_OFFER.c.id.desc()).limit(bindparam("lim"))
        found = _inbox_sql[key] = Statement(stmt)
    return found


# Each fact's label in the row; the case's id is the offer's own `case_id`, which stays.
_CASE_LABELS = tuple((name, f"case_{name}") for name in _CASE_FACTS)


def with_case(row: dict[str, Any]) -> dict[str, Any]:
    """An offer row with its `case_*` facts gathered as `case` (moved, not copied: a page
    of 30 offers spent ~7% of the inbox's time rebuilding every row)."""
    row["case"] = {
        name: row[label] if name == "id" else row.pop(label) for name, label in _CASE_LABELS
    }
    return row


async def list_offers(
    session: AsyncSession,
    p: Principal,
    *,
    status: str | None,
    case_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of offers with their case's facts: one statement on the fast lane."""
    after = decode_cursor(cursor, _CURSOR) if cursor else None  # `?cursor=` (empty): the first page
    db = await queries(session)
    by_status = OfferStatus(status) if status else None
    stmt = _inbox_statement(db.dialect, p, (by_status, bool(case_id), after is not None, False))
    params = {**access_params(p), "lim": limit + 1, "after": after, "f_case": case_id}
    rows = await db.fetch_dicts(stmt, params)
    page, nxt = page_of(rows, limit, _CURSOR)
    return [with_case(r) for r in page], nxt


async def read_offer(session: AsyncSession, p: Principal, offer_id: str) -> dict[str, Any]:
    """One offer with its case's facts (`case`), under the rule the inbox lists by (404 for
    an offer this principal may not see): the inbox's statement, by id, on the fast lane.
    The offer read through the ORM session cost an accept ~0.35 ms more in-process."""
    await flush_orm(session)
    db = await queries(session)
    stmt = _inbox_statement(db.dialect, p, (None, False, False, True))
    rows = await db.fetch_dicts(stmt, {**access_params(p), "f_id": offer_id, "lim": 1})
    if not rows:
        raise OfferNotFound("No such offer.")
    return with_case(rows[0])


def _with_facts(offers: list[Offer], case_row: Case) -> list[dict[str, Any]]:
    """Offers as the inbox shows them, with the facts of their case, already loaded."""
    facts = {name: getattr(case_row, name) for name in _CASE_FACTS}
    return [{**o.model_dump(), "case": dict(facts)} for o in offers]


# ---------------------------------------------------------------- making offers


async def lock_case(session: AsyncSession, case_id: str) -> Case:
    """The case row, held for this transaction (the first lock every offer path takes)."""
    case_row = await session.scalar(
        select(Case)
        .where(col(Case.id) == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case_row is None:
        raise NotFound("No such case.")
    return case_row


async def _offers_so_far(session: AsyncSession, case_id: str) -> list[tuple[str, str]]:
    """(specialist, status) of every offer the case has had, oldest first."""
    rows = await session.execute(
        select(col(Offer.specialist_id), col(Offer.status))
        .where(col(Offer.case_id) == case_id)
        .order_by(col(Offer.created_at), col(Offer.id))
    )
    return [(sid, status) for sid, status in rows.tuples()]


def _not_to_offer(so_far: list[tuple[str, str]], *, chosen: bool) -> set[str]:
    """Who is not offered the case again. Automatic offers go down the ranking, past
    everyone already asked (so they end). A coordinator's choice may ask again someone whose
    offer lapsed (asleep in another time zone, away that day): they never said no, and the
    same specialist again is often the best care. Whoever declined, or has an offer still
    open, is not asked again."""
    latest = dict(so_far)  # each specialist's last offer
    if not chosen:
        return set(latest)
    return {sid for sid, status in latest.items() if status != OfferStatus.expired.value}


async def pending_count(session: AsyncSession, case_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(col(Offer.case_id) == case_id, col(Offer.status) == fixed(OfferStatus.pending))
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
            actor or audit.SERVICE,  # no caller: the service offered it (a chain, a widening)
            "offer.create",
            "offer",
            o.id,
            detail=f"case={case_row.id} specialist={o.specialist_id}",
        )
    return offers


async def notify_unmatched(
    session: AsyncSession,
    case_row: Case,
    actor_id: str | None,
    *,
    because: str | None = None,
    **payload: Any,
) -> None:
    """The case becomes unmatched and every active coordinator is told (`because`: why,
    when it is not that nobody was left to offer it to)."""
    await lifecycle.transition(
        session, case_row, CaseStatus.unmatched, actor_id, because=because, **payload
    )
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
            **({"reason": because} if because else {}),
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
    so_far = await _offers_so_far(session, case_row.id)
    taken = _not_to_offer(so_far, chosen=False)
    ranking = await rank(session, case_row, limit=count, exclude_ids=taken, now=now)
    offers = await _create(session, case_row, ranking, actor, now, first_rank=len(so_far) + 1)
    if (
        not offers
        and case_row.status != CaseStatus.unmatched.value
        and await pending_count(session, case_row.id) == 0
    ):
        await notify_unmatched(session, case_row, actor.id if actor else None)
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
    case_row = await lock_case(session, case_id)
    if specialist_ids:
        if not p.is_staff:
            raise Forbidden("Only a coordinator chooses specialists; ask for auto offers.")
    elif not (p.is_staff or can_act_as_local(p, case_row)):
        raise Forbidden("Only coordinators and the case's own facility send offers.")
    if case_row.status not in OFFERABLE:
        raise CaseNotOfferable(
            f"A case that is {case_row.status} cannot be offered.", current_status=case_row.status
        )
    if auto:
        offers = await offer_next(session, case_row, count, p, now)
    else:
        offers = await _offer_chosen(session, p, case_row, specialist_ids or [], now)
    return {
        "case_id": case_row.id,
        "case_status": case_row.status,
        "items": _with_facts(offers, case_row),
    }


async def _offer_chosen(
    session: AsyncSession, p: Principal, case_row: Case, ids: list[str], now: datetime
) -> list[Offer]:
    ids = list(dict.fromkeys(ids))
    so_far = await _offers_so_far(session, case_row.id)
    taken = _not_to_offer(so_far, chosen=True)
    ranking = await rank(
        session, case_row, limit=len(ids), only_ids=ids, exclude_ids=taken, now=now
    )
    eligible = {c.specialist_id for c in ranking.candidates}
    if eligible == set(ids):
        return await _create(session, case_row, ranking, p, now, first_rank=len(so_far) + 1)
    # Someone cannot take it: rank again with the reasons (the exclusion queries cost as
    # much as the ranking, so only a refusal pays for them).
    ranking = await rank(
        session, case_row, limit=len(ids), only_ids=ids, exclude_ids=taken, now=now, explain=True
    )
    eligible = {c.specialist_id for c in ranking.candidates}
    # Asked before: whoever declined said no (said so); the others' offers are still open.
    latest = dict(so_far)
    reasons = {
        e.specialist_id: [
            "declined"
            if r == "already_offered" and latest.get(e.specialist_id) == OfferStatus.declined
            else r
            for r in e.reasons
        ]
        for e in ranking.excluded
    }
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
    return await _create(session, case_row, ranking, p, now, first_rank=len(so_far) + 1)


# ---------------------------------------------------------------- withdrawing offers


async def withdraw_pending(
    session: AsyncSession,
    case_id: str,
    case_status: str,
    *,
    keep: str | None = None,
    now: datetime | None = None,
) -> None:
    """Withdraw every offer still pending on the case (but `keep`), in the caller's
    transaction: its specialists stop seeing the case at once. Called when the case is
    assigned (keeping the accepted offer), cancelled, or found no longer offered; each
    withdrawal's event names the case's status (`case_status`)."""
    now = now or utcnow()
    await flush_orm(session)
    db = await queries(session)  # one statement (an accept's hot path), not a read then a write
    params = {"case_id": case_id, "keep": keep or "", "now": db.ts(now)}
    for offer_id, specialist_id in await db.fetch(_WITHDRAW, params):
        await emit(
            session,
            "offer.withdrawn",
            "offer",
            offer_id,
            audience=[specialist_id],
            payload={"offer_id": offer_id, "case_id": case_id, "case_status": case_status},
        )


_WITHDRAW = Statement(
    update(_OFFER)
    .where(
        _OFFER.c.case_id == bindparam("case_id"),
        _OFFER.c.status == fixed(OfferStatus.pending),
        _OFFER.c.id != bindparam("keep"),  # "" keeps none: ids are never empty
    )
    .values(status=OfferStatus.withdrawn.value, updated_at=bindparam("now"))
    .returning(_OFFER.c.id, _OFFER.c.specialist_id)
)
