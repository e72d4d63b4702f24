"""The programme's quality measures, computed in the database.

Every figure is one SQL aggregate over the filtered cases (nothing loads cases into Python).

Times are compared as whole microseconds since 1970 (UTC), read the same way on both
databases: PostgreSQL `EXTRACT(EPOCH ...) * 1e6` (exact numeric), SQLite by reading the digits
of the stored `YYYY-MM-DD HH:MM:SS.ffffff` text (SQLite's own date functions round to the
millisecond, which would make the two databases disagree).

Percentiles are the continuous percentile ("type 7", PostgreSQL's `percentile_cont`): over
the n values sorted ascending and numbered 0..n-1, take r = p * (n - 1), lo = value[floor(r)],
hi = value[floor(r) + 1] (lo when there is none), and answer lo + (hi - lo) * (r - floor(r)).
PostgreSQL computes it with `percentile_cont`; SQLite numbers the sorted rows with
`ROW_NUMBER()` and returns lo, hi and n, which are combined with the same arithmetic here, so
both answer the same number. Minutes are rounded to 2 decimals, rates to 4.
"""

from datetime import datetime
from math import floor
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.cases.models import Case, CaseStatus
from app.core.db import is_postgres, utcnow
from app.core.errors import Forbidden, NotFound
from app.core.principal import Principal
from app.followups.models import Feedback, FollowUp, FollowUpStatus
from app.matching.models import Offer, OfferStatus
from app.notes.models import Note, NoteKind, NoteStatus

try:  # built by the live-consult domain; without it there is no "first response" to time
    from app.consults.models import Message
except ImportError:  # pragma: no cover - depends on which domains are installed
    Message = None  # type: ignore[assignment,misc]
try:
    from app.rounds.models import RoundAttendance, RoundSeries
except ImportError:  # pragma: no cover
    RoundAttendance = RoundSeries = None  # type: ignore[assignment,misc]

US_PER_MINUTE = 60_000_000
H72_US = 72 * 3600 * 1_000_000
PERCENTILES = (0.5, 0.9)
_EPOCH_JD = 2440587.5


class FacilityNotFound(NotFound):
    """No such facility, or not one the caller may measure."""


def scope(p: Principal, organization_id: str | None) -> str | None:
    """Which facility the caller may measure: staff any (or all), a facility's clinicians and
    apps only their own; another facility is a 404, as it is everywhere else."""
    if p.kind == "user" and p.role in (Role.admin, Role.coordinator):
        return organization_id
    local = (p.kind == "client" and p.has_scope("cases:read")) or (
        p.kind == "user" and p.role == Role.clinician)
    if not local or p.organization_id is None:
        raise Forbidden("Only coordinators and a facility's own staff see its measures.")
    if organization_id is not None and organization_id != p.organization_id:
        raise FacilityNotFound("No such facility.")
    return p.organization_id


def _us(col: Any, pg: bool) -> Any:
    """Microseconds since 1970 UTC, as an exact integer on both databases."""
    if pg:
        return cast(func.extract("epoch", col) * 1_000_000, BigInteger)

    def part(start: int, length: int) -> Any:
        return cast(func.substr(col, start, length), Integer)

    days = cast(func.julianday(func.substr(col, 1, 10)) - _EPOCH_JD, Integer)
    return (days * 86_400_000_000 + part(12, 2) * 3_600_000_000 + part(15, 2) * 60_000_000
            + part(18, 2) * 1_000_000 + part(21, 6))


def _count_if(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _rate(num: int | None, den: int | None) -> float | None:
    return round(num / den, 4) if den else None


def _percentile(p: float, n: int, lo: float | None, hi: float | None) -> float | None:
    if not n or lo is None:
        return None
    r = p * (n - 1)
    frac = r - floor(r)
    return lo + (hi - lo) * frac if hi is not None and frac else float(lo)


def _minutes(v: float | None) -> float | None:
    return None if v is None else round(v / US_PER_MINUTE, 2)


def _case_filter(organization_id: str | None, specialty: str | None, start: datetime | None,
                 end: datetime | None) -> Any:
    conds = [true()]
    if organization_id:
        conds.append(Case.organization_id == organization_id)
    if specialty:
        conds.append(Case.specialty == specialty)
    if start:
        conds.append(Case.created_at >= start)
    if end:
        conds.append(Case.created_at < end)
    return and_(*conds)


async def _case_figures(session: AsyncSession, cond: Any, now: datetime) -> dict[str, Any]:
    """Counts, SLA shares and the three duration percentiles over the filtered cases."""
    pg = is_postgres(session)
    first_signed = (select(func.min(Note.signed_at))
                    .where(Note.case_id == Case.id, Note.kind == NoteKind.consult.value,
                           Note.signed_at.is_not(None))  # type: ignore[union-attr]
                    .scalar_subquery())
    cols = [Case.status.label("status"), Case.respond_by.label("respond_by"),  # type: ignore[attr-defined]
            _us(Case.created_at, pg).label("created_us"),
            _us(Case.assigned_at, pg).label("assigned_us"),
            first_signed.label("signed_at"), _us(first_signed, pg).label("signed_us")]
    if Message is not None:
        first_msg = (select(func.min(Message.created_at))
                     .where(Message.case_id == Case.id,
                            Message.sender_role == Role.specialist.value).scalar_subquery())
        cols.append(_us(first_msg, pg).label("msg_us"))
    per_case = select(*cols).where(cond).cte("per_case")
    if not pg:
        # Read once, used by the aggregates and by each percentile's numbering.
        per_case = per_case.prefix_with("MATERIALIZED")
    c = per_case.c
    durations = {"accept": c.assigned_us - c.created_us, "signed": c.signed_us - c.created_us}
    if Message is not None:
        durations["response"] = c.msg_us - c.created_us
    not_cancelled = c.status != CaseStatus.cancelled.value
    signed = c.signed_at.is_not(None)
    agg_cols = [
        func.count().label("submitted"),
        _count_if(c.status == CaseStatus.unmatched.value).label("unmatched"),
        # Known SLA outcome: answered, or its deadline passed unanswered (cancelled aside).
        _count_if(or_(signed, and_(c.respond_by < now, not_cancelled))).label("sla_n"),
        _count_if(and_(signed, c.signed_at <= c.respond_by)).label("sla_ok"),
        _count_if(or_(signed, and_(c.created_us + H72_US < literal(_now_us(now)),
                                   not_cancelled))).label("h72_n"),
        _count_if(and_(signed, durations["signed"] <= H72_US)).label("h72_ok"),
    ]
    out: dict[str, Any] = {}
    if pg:
        for name, d in durations.items():
            agg_cols.append(func.count(d).label(f"{name}_n"))
            for p in PERCENTILES:
                agg_cols.append(func.percentile_cont(p).within_group(d).label(
                    f"{name}_p{int(p * 100)}"))
        row = (await session.execute(select(*agg_cols).select_from(per_case))).one()._mapping
        for name in durations:
            out[name] = {"n": row[f"{name}_n"],
                         **{p: row[f"{name}_p{int(p * 100)}"] for p in PERCENTILES}}
    else:
        subqueries = [select(*agg_cols).select_from(per_case).subquery("agg")]
        for name, d in durations.items():
            numbered = select(d.label("d"),
                              (func.row_number().over(order_by=d) - 1).label("i"),
                              func.count().over().label("n")
                              ).where(d.is_not(None)).subquery(f"num_{name}")
            picks = [func.coalesce(func.max(numbered.c.n), 0).label(f"{name}_n")]
            for p in PERCENTILES:
                at = cast(p * (numbered.c.n - 1), Integer)
                picks.append(func.max(case((numbered.c.i == at, numbered.c.d))).label(
                    f"{name}_lo{int(p * 100)}"))
                picks.append(func.max(case((numbered.c.i == at + 1, numbered.c.d))).label(
                    f"{name}_hi{int(p * 100)}"))
            subqueries.append(select(*picks).subquery(f"pct_{name}"))
        # One row each: join them side by side.
        joined: Any = subqueries[0]
        for sq in subqueries[1:]:
            joined = joined.join(sq, true())
        stmt: Select[Any] = select(*[col for sq in subqueries for col in sq.c]).select_from(joined)
        row = (await session.execute(stmt)).one()._mapping
        for name in durations:
            n = row[f"{name}_n"]
            out[name] = {"n": n, **{p: _percentile(p, n, row[f"{name}_lo{int(p * 100)}"],
                                                    row[f"{name}_hi{int(p * 100)}"])
                                    for p in PERCENTILES}}
    out["counts"] = {k: row[k] for k in ("submitted", "unmatched", "sla_n", "sla_ok", "h72_n",
                                         "h72_ok")}
    return out


def _now_us(now: datetime) -> int:
    return (int(now.timestamp()) * 1_000_000) + now.microsecond


def _durations(fig: dict[str, Any] | None) -> dict[str, Any] | None:
    if fig is None:
        return None
    return {"median_minutes": _minutes(fig[0.5]), "p90_minutes": _minutes(fig[0.9]),
            "count": int(fig["n"] or 0)}


async def _rounds(session: AsyncSession, organization_id: str | None, specialty: str | None,
                  start: datetime | None, end: datetime | None) -> dict[str, Any]:
    if RoundAttendance is None or RoundSeries is None:
        return {"occurrences_held": None, "local_attendees_per_occurrence": None}
    conds = [RoundAttendance.attended.is_(True)]  # type: ignore[attr-defined]
    if organization_id:
        conds.append(RoundSeries.host_organization_id == organization_id)
    if specialty:
        conds.append(RoundSeries.specialty == specialty)
    if start:
        conds.append(RoundAttendance.occurrence_start >= start)
    if end:
        conds.append(RoundAttendance.occurrence_start < end)
    # An occurrence was held when anyone is recorded as having attended it.
    held = (select(RoundAttendance.series_id, RoundAttendance.occurrence_start,
                   _count_if(RoundAttendance.local.is_(True)).label("local_n"))  # type: ignore[attr-defined]
            .join(RoundSeries, RoundSeries.id == RoundAttendance.series_id)
            .where(*conds)
            .group_by(RoundAttendance.series_id, RoundAttendance.occurrence_start).subquery())
    n, local = (await session.execute(
        select(func.count(), func.coalesce(func.sum(held.c.local_n), 0)))).one()
    return {"occurrences_held": n,
            "local_attendees_per_occurrence": round(local / n, 4) if n else None}


async def quality(session: AsyncSession, p: Principal, *, organization_id: str | None = None,
                  specialty: str | None = None, start: datetime | None = None,
                  end: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
    org = scope(p, organization_id)
    now = now or utcnow()
    cond = _case_filter(org, specialty, start, end)
    figures = await _case_figures(session, cond, now)
    counts = figures["counts"]

    offers = (await session.execute(
        select(_count_if(Offer.status == OfferStatus.accepted.value), func.count())
        .join(Case, Case.id == Offer.case_id)
        .where(cond, Offer.status.in_([OfferStatus.accepted.value,  # type: ignore[attr-defined]
                                       OfferStatus.declined.value,
                                       OfferStatus.expired.value])))).one()
    notes = (await session.execute(
        select(func.count(Note.acknowledged_at), func.count())
        .join(Case, Case.id == Note.case_id)
        .where(cond, Note.status == NoteStatus.signed.value))).one()
    feedback = (await session.execute(
        select(func.coalesce(func.sum(Feedback.usefulness), 0),
               _count_if(Feedback.changed_management.is_(True)),  # type: ignore[attr-defined]
               func.count())
        .join(Case, Case.id == Feedback.case_id).where(cond))).one()

    # Follow-ups are counted by when they fell due (not when their case was submitted).
    fu_conds = [_case_filter(org, specialty, None, None),
                or_(FollowUp.status.in_([FollowUpStatus.done.value,  # type: ignore[attr-defined]
                                         FollowUpStatus.missed.value]),
                    and_(FollowUp.status == FollowUpStatus.open.value, FollowUp.due_at <= now))]
    if start:
        fu_conds.append(FollowUp.due_at >= start)
    if end:
        fu_conds.append(FollowUp.due_at < end)
    fu = (await session.execute(
        select(func.count(), _count_if(FollowUp.status == FollowUpStatus.done.value),
               _count_if(FollowUp.status == FollowUpStatus.missed.value),
               _count_if(FollowUp.status == FollowUpStatus.open.value))
        .join(Case, Case.id == FollowUp.case_id).where(*fu_conds))).one()

    return {
        "filters": {"organization_id": org, "specialty": specialty, "from": start, "to": end},
        "generated_at": now,
        "cases_submitted": counts["submitted"],
        "time_to_accept": _durations(figures["accept"]),
        "time_to_first_response": _durations(figures.get("response")),
        "time_to_signed_note": _durations(figures["signed"]),
        "answered_within_sla_rate": _rate(counts["sla_ok"], counts["sla_n"]),
        "answered_within_72h_rate": _rate(counts["h72_ok"], counts["h72_n"]),
        "offer_acceptance_rate": _rate(offers[0], offers[1]),
        "unmatched": counts["unmatched"],
        "follow_ups": {"due": fu[0], "done": fu[1], "missed": fu[2], "overdue": fu[3]},
        "notes_acknowledged_rate": _rate(notes[0], notes[1]),
        "usefulness_mean": _rate(feedback[0], feedback[2]),
        "changed_management_rate": _rate(feedback[1], feedback[2]),
        "rounds": await _rounds(session, org, specialty, start, end),
    }


