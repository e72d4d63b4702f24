"""Ranking candidates for one case in SQL: hard filters in WHERE, the score of
app/matching/scoring.py as an expression, ORDER BY score LIMIT k. Nothing loops over the
roster in Python; only the top k rows come back, and their parts are recomputed by the pure
functions so callers see exactly what each part contributed."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, false, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.cases.models import Case, CaseStatus
from app.core.db import utcnow
from app.matching import scoring
from app.specialists import repository as repo
from app.specialists.availability import MINUTES_PER_WEEK
from app.specialists.models import SpecialistProfile, SpecialistSpecialty, SpecialistWindow

_case = Case.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_prof = SpecialistProfile.__table__  # type: ignore[attr-defined]
_spec = SpecialistSpecialty.__table__  # type: ignore[attr-defined]
_win = SpecialistWindow.__table__  # type: ignore[attr-defined]

ANSWERED = (CaseStatus.answered.value, CaseStatus.closed.value)
EXPLAIN_LIMIT = 100


def _f(v: float) -> Any:
    """A float constant rendered inline, so both drivers divide in floating point."""
    return literal_column(repr(float(v)))


@dataclass
class Candidate:
    specialist_id: str
    name: str
    timezone: str
    score: float
    parts: dict[str, float]
    features: scoring.Features
    sql_score: float

    @property
    def interpreter_needed(self) -> bool:
        return scoring.interpreter_needed(self.features)


@dataclass
class Excluded:
    specialist_id: str
    name: str
    reasons: list[str]


@dataclass
class Ranking:
    candidates: list[Candidate]
    excluded: list[Excluded] = field(default_factory=list)
    excluded_total: int = 0


def _sql_score(c: Any, deadline: float, now: datetime, has_languages: bool) -> Any:
    """scoring.total(scoring.parts(features)) as one SQL expression over the feature columns."""
    w = scoring.WEIGHTS
    language = case((c.speaks, _f(1.0)), else_=_f(0.0)) if has_languages else _f(1.0)
    later = _f(scoring.LATER_WINDOW_CAP) * (_f(1.0) - cast(c.mins, Float) / _f(deadline)) \
        if deadline > 0 else _f(0.0)
    availability = case((c.mins.is_(None), _f(0.0)), (c.mins == 0, _f(1.0)),
                        (cast(c.mins, Float) >= _f(deadline), _f(0.0)), else_=later)
    load = _f(1.0) - cast(c.active, Float) / cast(c.max_active_cases, Float)
    continuity = case((c.follow, _f(1.0)), (c.helped, _f(0.5)), else_=_f(0.0))
    responsiveness = (
        _f(0.5) * (c.offers_accepted + _f(1.0))
        / (c.offers_accepted + c.offers_declined + c.offers_expired + _f(2.0))
        + _f(0.5) * (c.answered + _f(1.0)) / (c.assigned + _f(2.0)))
    steps = [(c.last_assigned_at <= now - timedelta(hours=h), _f(v))
             for h, v in scoring.FAIRNESS_STEPS]
    fairness = case((c.last_assigned_at.is_(None), _f(1.0)), *steps, else_=_f(0.0))
    weighted = (_f(w["language"]) * language + _f(w["availability"]) * availability
                + _f(w["load"]) * load + _f(w["continuity"]) * continuity
                + _f(w["responsiveness"]) * responsiveness + _f(w["fairness"]) * fairness)
    return weighted / _f(scoring.WEIGHT_SUM)


async def follow_up_specialist(session: AsyncSession, case_row: Case) -> str | None:
    if not case_row.follow_up_of_id:
        return None
    return await session.scalar(select(_case.c.assigned_specialist_id).where(
        _case.c.id == case_row.follow_up_of_id))


async def rank(session: AsyncSession, case_row: Case, *, limit: int = 20,
               exclude_ids: Iterable[str] = (), only_ids: Iterable[str] | None = None,
               now: datetime | None = None, explain: bool = False) -> Ranking:
    now = now or utcnow()
    exclude = list(exclude_ids)
    only = None if only_ids is None else list(only_ids)
    languages = repo.primary_subtags(case_row.languages or [])
    deadline = max(0.0, (case_row.respond_by - now).total_seconds() / 60.0)
    follow_sid = await follow_up_specialist(session, case_row)

    uid = _spec.c.user_id
    roster = _spec.join(_prof, _prof.c.user_id == uid).join(_user, _user.c.id == uid)
    scope = [_spec.c.specialty == case_row.specialty]
    if only is not None:
        scope.append(uid.in_(only))
    ready = [_user.c.active == true(), _prof.c.verified == true(), _prof.c.accepting == true(),
             ~repo.on_time_off(uid, now)]
    if exclude:
        ready.append(uid.not_in(exclude))

    zones = list((await session.scalars(
        select(_prof.c.timezone).select_from(roster).where(*scope, *ready[:3]).distinct()
    )).all())
    clock = repo.zone_clock(zones, now)
    mow = clock.c.mow
    mins = (select(func.min(case(
        (and_(_win.c.start_minute <= mow, _win.c.end_minute > mow), 0),
        else_=(_win.c.start_minute - mow + MINUTES_PER_WEEK) % MINUTES_PER_WEEK)))
        .where(_win.c.user_id == uid).scalar_subquery())
    count_cases = select(func.count()).select_from(_case).where(
        _case.c.assigned_specialist_id == uid)
    helped = select(_case.c.id).where(
        _case.c.assigned_specialist_id == uid,
        _case.c.organization_id == case_row.organization_id,
        _case.c.id != case_row.id).exists()
    features = (
        select(
            uid.label("sid"), _user.c.name, _prof.c.timezone, _prof.c.max_active_cases,
            _prof.c.offers_accepted, _prof.c.offers_declined, _prof.c.offers_expired,
            select(func.max(_case.c.assigned_at)).where(_case.c.assigned_specialist_id == uid)
            .scalar_subquery().label("last_assigned_at"),
            repo.active_cases(uid).label("active"),
            count_cases.where(_case.c.status.in_(ANSWERED)).scalar_subquery().label("answered"),
            count_cases.scalar_subquery().label("assigned"),
            helped.label("helped"),
            mins.label("mins"),
            (repo.speaks_any(uid, languages) if languages else false()).label("speaks"),
            ((uid == follow_sid) if follow_sid else false()).label("follow"),
        )
        .select_from(roster.join(clock, clock.c.zone == _prof.c.timezone))
        .where(*scope, *ready)
        # A fence: each feature subquery runs once per row, not again in the outer query.
        .offset(0)
        .subquery("features"))
    c = features.c
    score = _sql_score(c, deadline, now, bool(languages)).label("score")
    stmt = (select(features, score).where(c.active < c.max_active_cases)
            .order_by(score.desc(), c.sid).limit(limit))
    rows = (await session.execute(stmt)).all()

    out: list[Candidate] = []
    for r in rows:
        last = r.last_assigned_at
        f = scoring.Features(
            shares_language=bool(r.speaks), case_has_languages=bool(languages),
            minutes_to_window=r.mins, minutes_to_deadline=deadline,
            active_cases=r.active, max_active_cases=r.max_active_cases,
            answered_follow_up=bool(r.follow), helped_facility=bool(r.helped),
            offers_accepted=r.offers_accepted, offers_declined=r.offers_declined,
            offers_expired=r.offers_expired, cases_answered=r.answered,
            cases_assigned=r.assigned,
            hours_since_last_assignment=None if last is None else _hours(now, last))
        p = scoring.parts(f)
        out.append(Candidate(r.sid, r.name, r.timezone, scoring.total(p), p, f,
                             float(r.score)))
    ranking = Ranking(out)
    if explain:
        await _explain(session, ranking, roster, scope, uid, now, exclude)
    return ranking


def _hours(now: datetime, then: Any) -> float:
    return (now - then).total_seconds() / 3600.0


async def _explain(session: AsyncSession, ranking: Ranking, roster: Any, scope: list[Any],
                   uid: Any, now: datetime, exclude: list[str]) -> None:
    """Specialists of the case's specialty who failed a hard filter, and which."""
    active = repo.active_cases(uid)
    off = repo.on_time_off(uid, now)
    passes = and_(_user.c.active == true(), _prof.c.verified == true(),
                  _prof.c.accepting == true(), ~off, active < _prof.c.max_active_cases,
                  uid.not_in(exclude) if exclude else true())
    where = [*scope, ~passes]
    ranking.excluded_total = int(await session.scalar(
        select(func.count()).select_from(roster).where(*where)) or 0)
    rows = (await session.execute(
        select(uid.label("sid"), _user.c.name, _user.c.active, _prof.c.verified,
               _prof.c.accepting, off.label("off"), active.label("n"),
               _prof.c.max_active_cases)
        .select_from(roster).where(*where).order_by(uid).limit(EXPLAIN_LIMIT))).all()
    for r in rows:
        reasons = [name for name, hit in (
            ("inactive", not r.active), ("unverified", not r.verified),
            ("not_accepting", not r.accepting), ("on_time_off", bool(r.off)),
            ("at_capacity", r.n >= r.max_active_cases),
            ("already_offered", r.sid in exclude)) if hit]
        ranking.excluded.append(Excluded(r.sid, r.name, reasons))
