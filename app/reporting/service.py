"""The programme's quality measures, computed in the database.

Every figure is one SQL aggregate (nothing loads cases into Python). Case timings are read
from `case_timing` (see rollup.py), where each milestone is a whole number of seconds since
1970, so a duration is an integer difference and both databases order, count and interpolate
exactly the same numbers.

Percentiles are the continuous percentile ("type 7", PostgreSQL's `percentile_cont`): over
the n values sorted ascending and numbered 0..n-1, take r = p * (n - 1), lo = value[floor(r)],
hi = value[floor(r) + 1] (lo when there is none), and answer lo + (hi - lo) * (r - floor(r)).
PostgreSQL computes it with `percentile_cont`; on SQLite n comes from the aggregate and lo
and hi from `ORDER BY d LIMIT 1 OFFSET k`, combined here with the same double arithmetic
PostgreSQL uses, so both give the same number. Minutes are rounded to 2 decimals, rates and
means to 4.
"""

from datetime import datetime
from math import floor
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import CaseStatus
from app.core.clock import utcnow
from app.core.db import is_postgres, long_statements
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.core.principal import Principal, Role, Scope
from app.followups.models import FollowUp, FollowUpMove, FollowUpStatus
from app.reporting.models import CaseTiming
from app.reporting.rollup import catch_up

try:  # the live-consult domain's messages; without them nobody's first response is timed
    from app.consults.models import Message
except ImportError:  # pragma: no cover - depends on which domains are installed
    Message = None  # type: ignore[assignment,misc]

try:
    from app.rounds.models import RoundAttendance, RoundOccurrenceException, RoundSeries
except ImportError:  # pragma: no cover - depends on which domains are installed
    RoundAttendance = RoundOccurrenceException = RoundSeries = None  # type: ignore[assignment,misc]

SECONDS_72H = 72 * 3600
PERCENTILES = (0.5, 0.9)


class FacilityNotFound(NotFound):
    """No such facility, or not one the caller may measure."""


def scope(p: Principal, organization_id: str | None) -> str | None:
    """Which facility the caller may measure: staff any (or all), a facility's clinicians and
    apps only their own; another facility is a 404, as it is everywhere else."""
    if p.is_staff:
        return organization_id
    p.require_scope(Scope.cases_read)  # the route asks too; an app measures only with it
    local = p.is_client or p.role == Role.clinician
    if not local or p.organization_id is None:
        raise Forbidden("Only coordinators and a facility's own staff see its measures.")
    if organization_id is not None and organization_id != p.organization_id:
        raise FacilityNotFound("No such facility.")
    return p.organization_id


def _count_if(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _rate(num: int | None, den: int | None) -> float | None:
    return round((num or 0) / den, 4) if den else None


def _percentile(p: float, n: int, lo: float | None, hi: float | None) -> float | None:
    if not n or lo is None:
        return None
    r = p * (n - 1)
    frac = r - floor(r)
    return lo + (hi - lo) * frac if hi is not None and frac else float(lo)


def _minutes(v: float | None) -> float | None:
    return None if v is None else round(v / 60, 2)


def _timing_filter(
    organization_id: str | None, specialty: str | None, start: datetime | None, end: datetime | None
) -> list[Any]:
    conds: list[Any] = []
    if organization_id:
        conds.append(col(CaseTiming.organization_id) == organization_id)
    if specialty:
        conds.append(col(CaseTiming.specialty) == specialty)
    if start:
        conds.append(col(CaseTiming.created_s) >= _ceil_s(start))
    if end:
        conds.append(col(CaseTiming.created_s) < _ceil_s(end))
    return conds


def _follow_up_filter(
    organization_id: str | None,
    specialty: str | None,
    start: datetime | None,
    end: datetime | None,
    due: Any,
) -> list[Any]:
    """Follow-ups of the facility and specialty, due (by the `due` column given) in the
    period: their own due time, or the one a move took them from."""
    conds: list[Any] = []
    if organization_id:
        conds.append(col(FollowUp.organization_id) == organization_id)
    if specialty:
        conds.append(col(FollowUp.specialty) == specialty)
    if start:
        conds.append(due >= start)
    if end:
        conds.append(due < end)
    return conds


def _ceil_s(at: datetime) -> int:
    """created_s is truncated: created_at >= at  <=>  created_s >= ceil(at)."""
    whole = int(at.timestamp() // 1)
    return whole + (1 if at.microsecond else 0)


def _of_cases(case_id_col: Any, conds: list[Any]) -> list[Any]:
    """Rows of the filtered cases; no join at all when nothing is filtered."""
    if not conds:
        return []
    return [case_id_col.in_(select(col(CaseTiming.case_id)).where(*conds))]


async def _case_figures(session: AsyncSession, conds: list[Any], now: datetime) -> dict[str, Any]:
    """Counts, SLA shares and the three duration percentiles over the filtered cases."""
    pg = is_postgres(session)
    now_s = int(now.timestamp() // 1)
    durations = {"accept": col(CaseTiming.accept_s), "signed": col(CaseTiming.signed_s)}
    if Message is not None:
        durations["response"] = col(CaseTiming.response_s)
    not_cancelled = col(CaseTiming.status) != CaseStatus.cancelled.value
    signed = col(CaseTiming.first_signed_s).is_not(None)
    agg_cols = [
        func.count().label("submitted"),
        _count_if(col(CaseTiming.status) == CaseStatus.unmatched.value).label("unmatched"),
        # Known SLA outcome: answered, or its deadline passed unanswered (cancelled aside).
        _count_if(or_(signed, and_(col(CaseTiming.respond_by_s) < now_s, not_cancelled))).label(
            "sla_n"
        ),
        _count_if(
            and_(signed, col(CaseTiming.first_signed_s) <= col(CaseTiming.respond_by_s))
        ).label("sla_ok"),
        _count_if(
            or_(signed, and_(col(CaseTiming.created_s) + SECONDS_72H < now_s, not_cancelled))
        ).label("h72_n"),
        _count_if(and_(signed, col(CaseTiming.signed_s) <= SECONDS_72H)).label("h72_ok"),
        func.coalesce(func.sum(col(CaseTiming.offers_accepted)), 0).label("offers_accepted"),
        func.coalesce(func.sum(col(CaseTiming.offers_answered)), 0).label("offers_answered"),
        func.coalesce(func.sum(col(CaseTiming.signed_notes)), 0).label("notes_signed"),
        func.coalesce(func.sum(col(CaseTiming.acknowledged_notes)), 0).label("notes_acknowledged"),
        func.coalesce(func.sum(col(CaseTiming.feedback_count)), 0).label("feedback_n"),
        func.coalesce(func.sum(col(CaseTiming.usefulness_sum)), 0).label("usefulness_sum"),
        func.coalesce(func.sum(col(CaseTiming.changed_management_count)), 0).label("changed_n"),
        *[func.count(d).label(f"{name}_n") for name, d in durations.items()],
    ]
    where = conds or [true()]
    out: dict[str, Any] = {}
    if pg:
        for name, d in durations.items():
            for p in PERCENTILES:
                agg_cols.append(
                    func.percentile_cont(p).within_group(d).label(f"{name}_p{int(p * 100)}")
                )
        row = (await session.execute(select(*agg_cols).where(*where))).one()._mapping
        for name in durations:
            out[name] = {
                "n": row[f"{name}_n"],
                **{p: row[f"{name}_p{int(p * 100)}"] for p in PERCENTILES},
            }
    else:
        row = (await session.execute(select(*agg_cols).where(*where))).one()._mapping
        out.update(await _sqlite_percentiles(session, conds, durations, row))
    out["counts"] = {
        k: int(row[k])
        for k in (
            "submitted",
            "unmatched",
            "sla_n",
            "sla_ok",
            "h72_n",
            "h72_ok",
            "offers_accepted",
            "offers_answered",
            "notes_signed",
            "notes_acknowledged",
            "feedback_n",
            "usefulness_sum",
            "changed_n",
        )
    }
    return out


async def _sqlite_percentiles(
    session: AsyncSession, conds: list[Any], durations: dict[str, Any], counts: Any
) -> dict[str, Any]:
    """The values at 0-based positions floor(r) and floor(r) + 1 of each sorted duration.

    Programme-wide they are read in order from each duration's index; for a facility, a
    specialty or a period the matching rows are read once into a temporary table and each
    position is picked from it, so the filter is not applied twelve times."""
    source: Any = CaseTiming
    cols = dict(durations)
    if conds:
        picked = (
            select(*durations.values()).where(*conds).cte("filtered").prefix_with("MATERIALIZED")
        )
        source = picked
        cols = {name: picked.c[d.key] for name, d in durations.items()}
    positions: list[Any] = []
    labels: list[tuple[str, float, int]] = []
    for name, d in cols.items():
        n = counts[f"{name}_n"]
        if not n:
            continue
        for p in PERCENTILES:
            k = floor(p * (n - 1))
            for extra in (0, 1):
                positions.append(
                    select(d)
                    .select_from(source)
                    .where(d.is_not(None))
                    .order_by(d)
                    .limit(1)
                    .offset(k + extra)
                    .scalar_subquery()
                    .label(f"{name}_{int(p * 100)}_{extra}")
                )
                labels.append((name, p, extra))
    values: Any = {}
    if positions:
        values = (await session.execute(select(*positions))).one()._mapping
    out: dict[str, Any] = {}
    for name in durations:
        n = counts[f"{name}_n"]
        fig: dict[str | float, Any] = {"n": n}  # the count, and each percentile's value
        for p in PERCENTILES:
            lo = values.get(f"{name}_{int(p * 100)}_0") if n else None
            hi = values.get(f"{name}_{int(p * 100)}_1") if n else None
            fig[p] = _percentile(p, n, lo, hi)
        out[name] = fig
    return out


def _durations(fig: dict[str | float, Any] | None) -> dict[str, Any] | None:
    if fig is None:
        return None
    return {
        "median_minutes": _minutes(fig[0.5]),
        "p90_minutes": _minutes(fig[0.9]),
        "count": int(fig["n"] or 0),
    }


async def _rounds(
    session: AsyncSession,
    organization_id: str | None,
    specialty: str | None,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    if RoundAttendance is None or RoundSeries is None or RoundOccurrenceException is None:
        return {"occurrences_held": None, "local_attendees_per_occurrence": None}
    exc = RoundOccurrenceException
    # Not a cancelled occurrence (attendance may predate its cancelling), and counted on the
    # day it was held: a moved one's new start, not the one it was scheduled for.
    conds: list[ColumnElement[bool]] = [
        col(RoundAttendance.attended).is_(True),
        col(exc.cancelled).is_not(True),  # NULL: no exception row
    ]
    held_at = func.coalesce(col(exc.moved_to), col(RoundAttendance.occurrence_start))
    if organization_id:
        conds.append(col(RoundSeries.host_organization_id) == organization_id)
    if specialty:
        conds.append(col(RoundSeries.specialty) == specialty)
    if start:
        conds.append(held_at >= start)
    if end:
        conds.append(held_at < end)
    # An occurrence was held when anyone is recorded as having attended it.
    held = (
        select(
            col(RoundAttendance.series_id),
            col(RoundAttendance.occurrence_start),
            _count_if(col(RoundAttendance.local).is_(True)).label("local_n"),
        )
        .join(RoundSeries, col(RoundSeries.id) == col(RoundAttendance.series_id))
        .outerjoin(
            exc,
            and_(
                col(exc.series_id) == col(RoundAttendance.series_id),
                col(exc.occurrence_start) == col(RoundAttendance.occurrence_start),
            ),
        )
        .where(*conds)
        .group_by(col(RoundAttendance.series_id), col(RoundAttendance.occurrence_start))
        .subquery()
    )
    n, local = (
        await session.execute(select(func.count(), func.coalesce(func.sum(held.c.local_n), 0)))
    ).one()
    return {
        "occurrences_held": n,
        "local_attendees_per_occurrence": round(local / n, 4) if n else None,
    }


async def quality(
    session: AsyncSession,
    p: Principal,
    *,
    organization_id: str | None = None,
    specialty: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    if start is not None and end is not None and end <= start:
        # An empty period would read as a programme that did nothing: say it is the wrong way round.
        raise Unprocessable(
            "`to` must be after `from`.",
            errors=[
                {"pointer": "#query/to", "detail": "must be after from", "code": "after_start"}
            ],
        )
    # Hundreds of milliseconds over a large programme: keep the event loop free on SQLite.
    with long_statements():
        return await _quality(
            session,
            p,
            organization_id=organization_id,
            specialty=specialty,
            start=start,
            end=end,
            now=now,
        )


async def _quality(
    session: AsyncSession,
    p: Principal,
    *,
    organization_id: str | None,
    specialty: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime | None,
) -> dict[str, Any]:
    org = scope(p, organization_id)
    await catch_up(session)
    now = now or utcnow()
    conds = _timing_filter(org, specialty, start, end)
    figures = await _case_figures(session, conds, now)
    counts = figures["counts"]

    # Follow-ups are counted by when they fell due (not when their case was submitted).
    fu_conds = _follow_up_filter(org, specialty, start, end, col(FollowUp.due_at))
    # Two index range counts rather than one OR (which SQLite answers row by row).
    closed = dict(
        (
            await session.execute(
                select(col(FollowUp.status), func.count())
                .where(
                    *fu_conds,
                    col(FollowUp.status).in_(
                        [
                            FollowUpStatus.done.value,
                            FollowUpStatus.missed.value,
                        ]
                    ),
                )
                .group_by(col(FollowUp.status))
            )
        ).all()
    )
    overdue = await session.scalar(
        select(func.count()).where(
            *fu_conds,
            col(FollowUp.status) == FollowUpStatus.open.value,
            col(FollowUp.due_at) <= now,
        )
    )
    done, missed = (
        closed.get(FollowUpStatus.done.value, 0),
        closed.get(FollowUpStatus.missed.value, 0),
    )
    fu = (done + missed + (overdue or 0), done, missed, overdue or 0)
    # Late by the plan they had: fell due in the period, then were given a new due time
    # instead of being ended (not only handed on: that keeps its time, and is counted by it).
    # Counted by that due time, so a move cannot take a late one out of sight; cancelled
    # ones are left out, as from `due`.
    mv_conds = [
        col(FollowUpMove.after_due),
        col(FollowUpMove.due_at) != col(FollowUpMove.from_due_at),
        col(FollowUpMove.created_at) <= now,
        col(FollowUp.status) != FollowUpStatus.cancelled.value,
        *_follow_up_filter(org, specialty, start, end, col(FollowUpMove.from_due_at)),
    ]
    moved = await session.scalar(
        select(func.count(func.distinct(col(FollowUpMove.follow_up_id))))
        .join(FollowUp, col(FollowUp.id) == col(FollowUpMove.follow_up_id))
        .where(*mv_conds)
    )

    return {
        "filters": {"organization_id": org, "specialty": specialty, "from": start, "to": end},
        "generated_at": now,
        "cases_submitted": counts["submitted"],
        "time_to_accept": _durations(figures["accept"]),
        "time_to_first_response": _durations(figures.get("response")),
        "time_to_signed_note": _durations(figures["signed"]),
        "answered_within_sla_rate": _rate(counts["sla_ok"], counts["sla_n"]),
        "answered_within_72h_rate": _rate(counts["h72_ok"], counts["h72_n"]),
        "offer_acceptance_rate": _rate(counts["offers_accepted"], counts["offers_answered"]),
        "unmatched": counts["unmatched"],
        "follow_ups": {
            "due": fu[0],
            "done": fu[1],
            "missed": fu[2],
            "overdue": fu[3],
            "moved_after_due": moved or 0,
        },
        "notes_acknowledged_rate": _rate(counts["notes_acknowledged"], counts["notes_signed"]),
        "usefulness_mean": _rate(counts["usefulness_sum"], counts["feedback_n"]),
        "changed_management_rate": _rate(counts["changed_n"], counts["feedback_n"]),
        "rounds": await _rounds(session, org, specialty, start, end),
    }
