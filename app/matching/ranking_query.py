"""The ranking's SQL: the hard filters as WHERE, the score of app/matching/scoring.py as one
expression over each roster row's features, and the statements `ranking.rank` runs.

Every value is a bound parameter, so each shape of request (how many zones and languages,
whether there is a follow-up, a restriction, exclusions) is built and compiled once per
process (`statements`). Tests check the SQL score equals the Python one.
"""

from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    FromClause,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    inspect,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel

from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.db import UTCDateTime
from app.core.queries import fixed
from app.matching import scoring
from app.matching.workload import ACTIVE_STATUSES
from app.specialists import repository as repo
from app.specialists.availability import HOURS_PER_WORD, MINUTES_PER_WEEK
from app.specialists.models import SpecialistSpecialty, SpecialistWindow


def table(model: type[SQLModel]) -> FromClause:
    """A model's table, for Core statements (SQLModel's stubs do not declare __table__)."""
    mapper: Mapper[Any] = inspect(model)
    return mapper.local_table


_case = table(Case)
_ros = table(SpecialistSpecialty)  # the matching roster: one row per (specialty, specialist)
_win = table(SpecialistWindow)
_offer = table(Offer)

ANSWERED = (CaseStatus.answered.value, CaseStatus.closed.value)


def _f(v: float) -> Any:
    """A float constant rendered inline as a double (a bare 1.0 is NUMERIC on PostgreSQL,
    whose arithmetic is several times slower), so both databases compute in floating
    point."""
    return cast(literal_column(repr(float(v))), Float)


def _i(v: int) -> Any:
    """A (possibly 64-bit) integer constant rendered inline, typed by the database."""
    return literal_column(str(int(v)), BigInteger)


def _weighted(parts: dict[str, Any]) -> Any:
    w = scoring.WEIGHTS
    return sum((_f(w[k]) * parts[k] for k in w), _f(0.0)) / _f(scoring.WEIGHT_SUM)


def _accepting(c: Any) -> Any:
    return (c.offers_accepted + _f(1.0)) / (
        c.offers_accepted + c.offers_declined + c.offers_expired + _f(2.0)
    )


def _load(c: Any) -> Any:
    """scoring.load_part: open assigned cases and, where known (the exact score; the upper
    bound leaves them out, which only raises it), pending offers."""
    work = c.active + c.pending if hasattr(c, "pending") else c.active
    part = _f(1.0) - cast(work, Float) / cast(c.max_active_cases, Float)
    return case((part < _f(0.0), _f(0.0)), else_=part)


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


_STATEMENTS: dict[tuple[Any, ...], dict[str, Any]] = {}


def statements(key: tuple[Any, ...]) -> dict[str, Any]:
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
    # Time off under way, or beginning before the answer is due, rules a specialist out.
    until = bindparam("r_until", type_=UTCDateTime)
    ready = [_ros.c.ready == true(), ~repo.time_off_within(uid, now, until)]
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
    # Each zone's clock change in the week ahead (availability.dst_shift), if any.
    shift_at, shift_by = (
        case(
            *[
                (
                    _ros.c.timezone == bindparam(f"r_zone{i}"),
                    bindparam(f"r_{name}{i}", type_=Integer),
                )
                for i in range(n_zones)
            ],
            else_=cast(null(), Integer),
        )
        if n_zones
        else cast(null(), Integer)
        for name in ("shift_at", "shift_by")
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
        "exact": _exact_query(scope, *common, (shift_at, shift_by), deadline_positive, n_langs > 0),
        "exact_ids": _exact_query(
            [*scope, shortlist], *common, (shift_at, shift_by), deadline_positive, n_langs > 0
        ),
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
    shift: tuple[Any, Any],
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
            shift[0].label("shift_at"),
            shift[1].label("shift_by"),
            _case_stats(uid, org).label("packed"),
            _pending_offers(uid).label("pending"),
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
    # Layer 2: decode the counts, find the next window (in wall-clock minutes)...
    c = _decoded(base, mins.label("wall_mins"))
    # ... in real minutes: one clock change in the week ahead moves every later window.
    past_shift = and_(c.wall_mins > _i(0), c.wall_mins >= c.shift_at)
    moved = c.wall_mins - c.shift_by
    real = case(
        (and_(past_shift, moved < _i(1)), _i(1)), (past_shift, moved), else_=c.wall_mins
    ).label("mins")
    f = SimpleNamespace(**{col.name: col for col in c}, mins=real)
    score = _sql_score(f, deadline_positive, has_languages).label("score")
    return (
        select(*[col for col in c if col.name != "wall_mins"], real, score)
        .where(c.active < c.max_active_cases)
        .order_by(score.desc(), c.sid)
        .limit(bindparam("r_limit", type_=Integer))
    )


def _pending_offers(uid: Any) -> Any:
    """Offers waiting on the specialist (for other cases): work they may be about to take
    on, so part of their load though not (yet) of their capacity."""
    o = _offer.c
    return (
        select(func.count())
        .where(
            o.specialist_id == uid,
            o.status == fixed(OfferStatus.pending),
            o.case_id != bindparam("r_case"),
        )
        .scalar_subquery()
    )
