"""Why a specialist of the case's specialty was left out of its ranking (`?explain=true`,
and the reasons a coordinator's chosen specialist cannot be offered a case)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.matching.ranking_query import table
from app.matching.workload import active_cases
from app.specialists import repository as repo
from app.specialists.models import SpecialistProfile, SpecialistSpecialty

EXPLAIN_LIMIT = 100

_user = table(User)
_prof = table(SpecialistProfile)
_ros = table(SpecialistSpecialty)


@dataclass
class Excluded:
    specialist_id: str
    name: str
    reasons: list[str]


async def excluded(
    session: AsyncSession,
    specialty: str,
    *,
    only: Sequence[str] | None,
    exclude: Sequence[str],
    now: datetime,
    until: datetime | None = None,
) -> tuple[list[Excluded], int]:
    """Specialists of `specialty` (among `only`, when given) who failed a hard filter, and
    which: the first EXPLAIN_LIMIT of them, and how many there are in all."""
    uid = _ros.c.user_id
    scope = [_ros.c.specialty == specialty]
    if only is not None:
        scope.append(uid.in_(only))
    roster = _ros.join(_prof, _prof.c.user_id == uid).join(_user, _user.c.id == uid)
    active = active_cases(uid)
    # Away now, or from before the answer is due (`until`: the case's deadline).
    off = repo.time_off_within(uid, now, until or now)
    passes = and_(
        _user.c.active == true(),
        _prof.c.verified == true(),
        _prof.c.accepting == true(),
        ~off,
        active < _prof.c.max_active_cases,
        uid.not_in(exclude) if exclude else true(),
    )
    where = [*scope, ~passes]
    total = int(await session.scalar(select(func.count()).select_from(roster).where(*where)) or 0)
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
    found = []
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
        found.append(Excluded(r.sid, r.name, reasons))
    return found, total
