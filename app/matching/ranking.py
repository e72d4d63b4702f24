"""Ranking candidates for one case in SQL: hard filters in WHERE, the score of
app/matching/scoring.py as an expression (app/matching/ranking_query.py), ORDER BY score
LIMIT k. Nothing loops over the roster in Python; only the top k rows come back, and their
parts are recomputed by the pure functions so callers see exactly what each part
contributed."""

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.cases.models import Case
from app.core.clock import utcnow
from app.core.db import long_statements
from app.matching import scoring
from app.matching.exclusions import Excluded, excluded
from app.matching.ranking_query import statements, table
from app.specialists import repository as repo
from app.specialists.availability import dst_shift, minute_of_week

_case = table(Case)
_user = table(User)

# The first shortlist scored exactly; it grows fourfold until the bound proves the top k.
SHORTLIST_MIN, SHORTLIST_PER_RESULT = 200, 10
# Ranking only this many chosen specialists runs inline on SQLite (app.core.db).
SHORT_LIST = 20
# The best score a candidate who shares no language with the case could reach.
NON_SPEAKER_BEST = (scoring.WEIGHT_SUM - scoring.WEIGHTS["language"]) / scoring.WEIGHT_SUM


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
class Ranking:
    candidates: list[Candidate]
    excluded: list[Excluded] = field(default_factory=list)
    excluded_total: int = 0


async def follow_up_specialist(session: AsyncSession, case_row: Case) -> str | None:
    if not case_row.follow_up_of_id:
        return None
    return await session.scalar(
        select(_case.c.assigned_specialist_id).where(_case.c.id == case_row.follow_up_of_id)
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
    # Tens of milliseconds over a large roster: keep the event loop free on SQLite. A few
    # chosen specialists are a few index lookups: run inline like any short statement.
    short = only_ids is not None and len(only_ids := list(only_ids)) <= SHORT_LIST
    with contextlib.nullcontext() if short else long_statements():
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
    stmts = statements(key)
    params: dict[str, Any] = {
        "r_now": now,
        "r_specialty": case_row.specialty,
        "r_org": case_row.organization_id,
        "r_deadline": deadline,
        "r_until": max(now, case_row.respond_by),
        "r_case": case_row.id,
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
        **_shifts(now, zones),
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
            pending_offers=r.pending,
        )
        p = scoring.parts(f)
        out.append(
            Candidate(r.sid, users[r.sid].name, r.timezone, scoring.total(p), p, f, float(r.score))
        )
    ranking = Ranking(out)
    if explain:
        ranking.excluded, ranking.excluded_total = await excluded(
            session,
            case_row.specialty,
            only=only,
            exclude=exclude,
            now=now,
            until=max(now, case_row.respond_by),
        )
    return ranking


def _shifts(now: datetime, zones: list[str]) -> dict[str, int | None]:
    """Each zone's clock change in the week ahead (minutes until it, minutes it moves)."""
    out: dict[str, int | None] = {}
    for i, z in enumerate(zones):
        shift = dst_shift(now, z)
        out[f"r_shift_at{i}"], out[f"r_shift_by{i}"] = shift if shift else (None, None)
    return out


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


def _hours(now: datetime, then: datetime) -> float:
    return (now - then).total_seconds() / 3600.0
