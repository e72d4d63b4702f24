"""Ranking candidates for one case in SQL: hard filters in WHERE, the score of
app/matching/scoring.py as an expression, ORDER BY score LIMIT k. Nothing loops over the
roster in Python; only the top k rows come back, and their parts are recomputed by the pure
functions so callers see exactly what each part contributed."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.cases.models import Case, CaseStatus
from app.core.db import UTCDateTime, long_statements, utcnow
from app.matching import scoring
from app.matching.workload import ACTIVE_STATUSES, active_cases
from app.specialists import repository as repo
from app.specialists.availability import HOURS_PER_WORD, MINUTES_PER_WEEK, minute_of_week
from app.specialists.models import SpecialistProfile, SpecialistSpecialty, SpecialistWindow

_case = Case.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_prof = SpecialistProfile.__table__  # type: ignore[attr-defined]
_ros = SpecialistSpecialty.__table__  # type: ignore[attr-defined]
_win = SpecialistWindow.__table__  # type: ignore[attr-defined]

ANSWERED = (CaseStatus.answered.value, CaseStatus.closed.value)
EXPLAIN_LIMIT = 100
# The first shortlist scored exactly; it grows fourfold until the bound proves the top k.
SHORTLIST_MIN, SHORTLIST_PER_RESULT = 200, 10
# The best score a candidate who shares no language with the case could reach.
NON_SPEAKER_BEST = (scoring.WEIGHT_SUM - scoring.WEIGHTS["language"]) / scoring.WEIGHT_SUM


def _f(v: float) -> Any:
    """A float constant rendered inline as a double (a bare 1.0 is NUMERIC on PostgreSQL,
    whose arithmetic is several times slower), so both databases compute in floating
    point."""
    return cast(literal_column(repr(float(v))), Float)


def _i(v: int) -> Any:
    """A (possibly 64-bit) integer constant rendered inline, typed by the database."""
    return literal_column(str(int(v)), BigInteger)


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


def _weighted(parts: dict[str, Any]) -> Any:
    w = scoring.WEIGHTS
    return sum((_f(w[k]) * parts[k] for k in w), _f(0.0)) / _f(scoring.WEIGHT_SUM)


def _accepting(c: Any) -> Any:
    return (c.offers_accepted + _f(1.0)) / (
        c.offers_accepted + c.offers_declined + c.offers_expired + _f(2.0)
    )


def _load(c: Any) -> Any:
    return _f(1.0) - cast(c.active, Float) / cast(c.max_active_cases, Float)


def _continuity(c: Any) -> Any:
    return case((c.follow, _f(1.0)), (c.helped, _f(0.5)), else_=_f(0.0))


def _responsiveness(c: Any) -> Any:
    return _f(0.5) * _accepting(c) + _f(0.5) * (c.answered + _f(1.0)) / (c.assigned + _f(2.0))


def _fairness(c: Any) -> Any:
    steps = [
        (c.last_assigned_at <= bindparam(f"r_fair{i}", type_=UTCDateTime), _f(v))
        for i, (_, v) in enumerate(scoring.FAIRNESS_STEPS)
    ]
    return case((c.last_assigned_at.is_(None), _f(1.0)), *steps, else_=_f(0.0))


def _language(c: Any, has_languages: bool) -> Any:
    return case((c.speaks, _f(1.0)), else_=_f(0.0)) if has_languages else _f(1.0)


def _sql_score(c: Any, deadline_positive: bool, has_languages: bool) -> Any:
    """scoring.total(scoring.parts(features)) as one SQL expression over the feature columns."""
    d = bindparam("r_deadline", type_=Float)
    later = (
        _f(scoring.LATER_WINDOW_CAP) * (_f(1.0) - cast(c.mins, Float) / d)
        if deadline_positive
        else _f(0.0)
    )
    return _weighted(
        {
            "language": _language(c, has_languages),
            "availability": case(
                (c.mins.is_(None), _f(0.0)),
                (c.mins == 0, _f(1.0)),
                (cast(c.mins, Float) >= d, _f(0.0)),
                else_=later,
            ),
            "load": _load(c),
            "continuity": _continuity(c),
            "responsiveness": _responsiveness(c),
            "fairness": _fairness(c),
        }
    )


def _sql_bound(c: Any, has_languages: bool) -> Any:
    """scoring.upper_bound(): the exact score with availability from the hour bit."""
    return _weighted(
        {
            "language": _language(c, has_languages),
            "availability": case(
                (c.hour_bit == _i(1), _f(1.0)), else_=_f(scoring.LATER_WINDOW_CAP)
            ),
            "load": _load(c),
            "continuity": _continuity(c),
            "responsiveness": _responsiveness(c),
            "fairness": _fairness(c),
        }
    )


async def follow_up_specialist(session: AsyncSession, case_row: Case) -> str | None:
    if not case_row.follow_up_of_id:
        return None
    return await session.scalar(
        select(_case.c.assigned_specialist_id).where(_case.c.id == case_row.follow_up_of_id)
    )


# One probe of the case index per candidate gives four numbers, packed into one integer
# (open assigned cases, whether they helped this facility, answered cases, all cases):
# a correlated subquery returns one value, and four probes per row cost four times one.
_ACTIVE, _HELPED, _ANSWERED = 10**13, 10**12, 10**6


def _case_stats(uid: Any, org: Any) -> Any:
    c = _case.c
    weight = case(
        (c.status.in_(ACTIVE_STATUSES), _i(_ACTIVE)),
        (c.status.in_(ANSWERED), _i(_ANSWERED)),
        else_=_i(0),
    ) + _i(1)
    # (The case being ranked is unassigned, so it never counts as help given.)
    helped = case((c.organization_id == org, _i(_HELPED)), else_=_i(0))
    return (
        select(
            cast(
                func.coalesce(func.sum(weight), _i(0)) + func.coalesce(func.max(helped), _i(0)),
                BigInteger,
            )
        )
        .where(c.assigned_specialist_id == uid)
        .scalar_subquery()
    )


async def rank(
    session: AsyncSession,
    case_row: Case,
    *,
    limit: int = 20,
    exclude_ids: Iterable[str] = (),
    only_ids: Iterable[str] | None = None,
    now: datetime | None = None,
    explain: bool = False,
) -> Ranking:
    # Tens of milliseconds over a large roster: keep the event loop free on SQLite.
    with long_statements():
        return await _rank(
            session,
            case_row,
            limit=limit,
            exclude_ids=exclude_ids,
            only_ids=only_ids,
            now=now,
            explain=explain,
        )


async def _rank(
    session: AsyncSession,
    case_row: Case,
    *,
    limit: int,
    exclude_ids: Iterable[str],
    only_ids: Iterable[str] | None,
    now: datetime | None,
    explain: bool,
) -> Ranking:
    now = now or utcnow()
    exclude = list(exclude_ids)
    only = None if only_ids is None else list(only_ids)
    languages = repo.primary_subtags(case_row.languages or [])
    deadline = max(0.0, (case_row.respond_by - now).total_seconds() / 60.0)
    follow_sid = await follow_up_specialist(session, case_row)

    zones = sorted(await repo.zones_in_play(session))
    key = (
        len(zones),
        len(languages),
        follow_sid is not None,
        only is not None,
        bool(exclude),
        deadline > 0,
    )
    stmts = _statements(key)
    params: dict[str, Any] = {
        "r_now": now,
        "r_specialty": case_row.specialty,
        "r_org": case_row.organization_id,
        "r_deadline": deadline,
        "r_follow": follow_sid,
        "r_only": only,
        "r_exclude": exclude,
        **{
            f"r_fair{i}": now - timedelta(hours=h)
            for i, (h, _) in enumerate(scoring.FAIRNESS_STEPS)
        },
        **{f"r_zone{i}": z for i, z in enumerate(zones)},
        # The local minute of the week, once per zone in use rather than once per row.
        **{f"r_mow{i}": minute_of_week(now, z) for i, z in enumerate(zones)},
        **{f"r_lang{i}": f"%,{lang},%" for i, lang in enumerate(languages)},
    }
    if only is not None:
        rows, users = await _fetch(session, stmts["exact"], params, limit)
    else:
        # Language first: when k speakers score above the best any non-speaker could reach,
        # the non-speakers need not be looked at; otherwise (nobody, or too few, speak it)
        # everyone is ranked and the best are marked interpreter_needed.
        for speakers in [True, False] if languages else [False]:
            rows, users = await _shortlisted(session, stmts, params, limit, speakers)
            if not speakers or (
                len(rows) >= limit and float(rows[limit - 1].score) > NON_SPEAKER_BEST
            ):
                break
    rows = rows[:limit]

    out: list[Candidate] = []
    for r in rows:
        last = r.last_assigned_at
        f = scoring.Features(
            shares_language=bool(r.speaks),
            case_has_languages=bool(languages),
            minutes_to_window=r.mins,
            minutes_to_deadline=deadline,
            active_cases=r.active,
            max_active_cases=r.max_active_cases,
            answered_follow_up=bool(r.follow),
            helped_facility=bool(r.helped),
            offers_accepted=r.offers_accepted,
            offers_declined=r.offers_declined,
            offers_expired=r.offers_expired,
            cases_answered=r.answered,
            cases_assigned=r.assigned,
            hours_since_last_assignment=None if last is None else _hours(now, last),
        )
        p = scoring.parts(f)
        out.append(
            Candidate(r.sid, users[r.sid].name, r.timezone, scoring.total(p), p, f, float(r.score))
        )
    ranking = Ranking(out)
    if explain:
        uid = _ros.c.user_id
        scope = [_ros.c.specialty == case_row.specialty]
        if only is not None:
            scope.append(uid.in_(only))
        roster = _ros.join(_prof, _prof.c.user_id == uid).join(_user, _user.c.id == uid)
        await _explain(session, ranking, roster, scope, uid, now, exclude)
    return ranking


_STATEMENTS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _statements(key: tuple[Any, ...]) -> dict[str, Any]:
    """The ranking statements for one shape of request (how many zones and languages,
    whether there is a follow-up, a restriction, exclusions). Every value is a bound
    parameter, so each shape is built and compiled once per process, then reused."""
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    n_zones, n_langs, has_follow, has_only, has_exclude, deadline_positive = key
    uid = _ros.c.user_id
    now = bindparam("r_now", type_=UTCDateTime)
    scope = [_ros.c.specialty == bindparam("r_specialty")]
    if has_only:
        scope.append(uid.in_(bindparam("r_only", expanding=True)))
    ready = [_ros.c.ready == true(), ~repo.on_time_off(uid, now)]
    if has_exclude:
        ready.append(uid.not_in(bindparam("r_exclude", expanding=True)))
    mow = (
        case(
            *[
                (_ros.c.timezone == bindparam(f"r_zone{i}"), bindparam(f"r_mow{i}", type_=Integer))
                for i in range(n_zones)
            ],
            else_=_i(-1),
        )
        if n_zones
        else _i(-1)
    )
    speaks = (
        or_(*[_ros.c.language_key.like(bindparam(f"r_lang{i}")) for i in range(n_langs)])
        if n_langs
        else false()
    )
    follow = ((uid == bindparam("r_follow")) if has_follow else false()).label("follow")
    org: Any = bindparam("r_org")
    shortlist = uid.in_(bindparam("r_ids", expanding=True))
    common = (ready, mow, speaks, follow, org)
    stmts = {
        "exact": _exact_query(scope, *common, deadline_positive, n_langs > 0),
        "exact_ids": _exact_query([*scope, shortlist], *common, deadline_positive, n_langs > 0),
        "bound": _bound_query(scope, *common, n_langs > 0),
        "bound_speakers": _bound_query([*scope, speaks], *common, n_langs > 0),
    }
    _STATEMENTS[key] = stmts
    return stmts


def _bound_query(
    scope: list[Any],
    ready: list[Any],
    mow: Any,
    speaks: Any,
    follow: Any,
    org: Any,
    has_languages: bool,
) -> Any:
    """Every roster row that passes the hard filters, with its upper bound, best first: the
    exact score but for availability, which comes from the roster row's bit for the current
    hour instead of a lookup of its windows."""
    uid = _ros.c.user_id
    hour = mow // _i(60)
    word = case(
        (hour < _i(HOURS_PER_WORD), _ros.c.hours_0),
        (hour < _i(2 * HOURS_PER_WORD), _ros.c.hours_1),
        else_=_ros.c.hours_2,
    )
    bit = word.op(">>")(hour % _i(HOURS_PER_WORD)).self_group().op("&")(_i(1))
    base = (
        select(
            uid.label("sid"),
            _ros.c.max_active_cases,
            _ros.c.offers_accepted,
            _ros.c.offers_declined,
            _ros.c.offers_expired,
            _ros.c.last_assigned_at,
            speaks.label("speaks"),
            follow,
            _case_stats(uid, org).label("packed"),
            bit.label("hour_bit"),
        )
        .where(*scope, *ready)
        .offset(0)
        .subquery("roster")
    )
    c = _decoded(base)
    bound = _sql_bound(c, has_languages).label("bound")
    return (
        select(c.sid, bound)
        .where(c.active < c.max_active_cases)
        .order_by(bound.desc(), c.sid)
        .limit(bindparam("r_limit", type_=Integer))
    )


def _decoded(base: Any, *extra: Any) -> Any:
    """The packed case counts of a fenced subquery, unpacked into columns."""
    b = base.c
    return (
        select(
            *[col for col in b if col.name != "packed"],
            (b.packed // _i(_ACTIVE)).label("active"),
            ((b.packed // _i(_HELPED)) % _i(10) > _i(0)).label("helped"),
            ((b.packed // _i(_ANSWERED)) % _i(_ANSWERED)).label("answered"),
            (b.packed % _i(_ANSWERED)).label("assigned"),
            *extra,
        )
        .offset(0)
        .subquery("features")
        .c
    )


def _exact_query(
    scope: list[Any],
    ready: list[Any],
    mow: Any,
    speaks: Any,
    follow: Any,
    org: Any,
    deadline_positive: bool,
    has_languages: bool,
) -> Any:
    """The exact score of every row in scope, best first."""
    uid = _ros.c.user_id
    # Layer 1: the roster rows that pass the hard filters, each with its local minute of
    # the week and its packed case counts.
    base = (
        select(
            uid.label("sid"),
            _ros.c.timezone,
            _ros.c.max_active_cases,
            _ros.c.offers_accepted,
            _ros.c.offers_declined,
            _ros.c.offers_expired,
            _ros.c.last_assigned_at,
            mow.label("mow"),
            _case_stats(uid, org).label("packed"),
            speaks.label("speaks"),
            follow,
        )
        .where(*scope, *ready)
        # A fence: the subqueries above run once per row, not once per use.
        .offset(0)
        .subquery("base")
    )
    b = base.c
    mins = (
        select(
            func.min(
                case(
                    (and_(_win.c.start_minute <= b.mow, _win.c.end_minute > b.mow), 0),
                    else_=(_win.c.start_minute - b.mow + MINUTES_PER_WEEK) % MINUTES_PER_WEEK,
                )
            )
        )
        .where(_win.c.user_id == b.sid)
        .scalar_subquery()
    )
    # Layer 2: decode the counts, find the next window.
    c = _decoded(base, mins.label("mins"))
    score = _sql_score(c, deadline_positive, has_languages).label("score")
    return (
        select(*c, score)
        .where(c.active < c.max_active_cases)
        .order_by(score.desc(), c.sid)
        .limit(bindparam("r_limit", type_=Integer))
    )


async def _fetch(
    session: AsyncSession, stmt: Any, params: dict[str, Any], limit: int
) -> tuple[list[Any], dict[str, Any]]:
    """The top `limit` rows of an exact query whose accounts are active."""
    fetch = limit + 5
    while True:
        rows = (await session.execute(stmt, {**params, "r_limit": fetch})).all()
        # Deactivated accounts are rare: dropped here rather than joined for every row.
        users = {
            u.id: u
            for u in (
                await session.execute(
                    select(_user.c.id, _user.c.name, _user.c.active).where(
                        _user.c.id.in_([r.sid for r in rows])
                    )
                )
            ).all()
        }
        kept = [r for r in rows if users[r.sid].active]
        if len(kept) >= limit or len(rows) < fetch:
            return kept, users
        fetch *= 4


async def _shortlisted(
    session: AsyncSession, stmts: dict[str, Any], params: dict[str, Any], limit: int, speakers: bool
) -> tuple[list[Any], dict[str, Any]]:
    """Shortlist, then score exactly (the threshold algorithm): rank the rows by an upper
    bound that needs no per-row lookups, score the top of that list exactly, and stop once
    the k-th exact score beats the bound of everyone left out; else grow the shortlist."""
    size = max(SHORTLIST_MIN, SHORTLIST_PER_RESULT * limit)
    bound = stmts["bound_speakers" if speakers else "bound"]
    while True:
        short = (await session.execute(bound, {**params, "r_limit": size + 1})).all()
        rows, users = await _fetch(
            session, stmts["exact_ids"], {**params, "r_ids": [r.sid for r in short[:size]]}, limit
        )
        if len(short) <= size:
            return rows, users
        if len(rows) >= limit and float(rows[limit - 1].score) > float(short[size].bound):
            return rows, users
        size *= 4


def _hours(now: datetime, then: Any) -> float:
    return (now - then).total_seconds() / 3600.0


async def _explain(
    session: AsyncSession,
    ranking: Ranking,
    roster: Any,
    scope: list[Any],
    uid: Any,
    now: datetime,
    exclude: list[str],
) -> None:
    """Specialists of the case's specialty who failed a hard filter, and which."""
    active = active_cases(uid)
    off = repo.on_time_off(uid, now)
    passes = and_(
        _user.c.active == true(),
        _prof.c.verified == true(),
        _prof.c.accepting == true(),
        ~off,
        active < _prof.c.max_active_cases,
        uid.not_in(exclude) if exclude else true(),
    )
    where = [*scope, ~passes]
    ranking.excluded_total = int(
        await session.scalar(select(func.count()).select_from(roster).where(*where)) or 0
    )
    rows = (
        await session.execute(
            select(
                uid.label("sid"),
                _user.c.name,
                _user.c.active,
                _prof.c.verified,
                _prof.c.accepting,
                off.label("off"),
                active.label("n"),
                _prof.c.max_active_cases,
            )
            .select_from(roster)
            .where(*where)
            .order_by(uid)
            .limit(EXPLAIN_LIMIT)
        )
    ).all()
    for r in rows:
        reasons = [
            name
            for name, hit in (
                ("inactive", not r.active),
                ("unverified", not r.verified),
                ("not_accepting", not r.accepting),
                ("on_time_off", bool(r.off)),
                ("at_capacity", r.n >= r.max_active_cases),
                ("already_offered", r.sid in exclude),
            )
            if hit
        ]
        ranking.excluded.append(Excluded(r.sid, r.name, reasons))
