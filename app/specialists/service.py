"""Specialist profiles: who may see and write them, and the directory queries.

- Staff (admin, coordinator) see every specialist, verified or not, active or not.
- Everyone else signed in (clinicians, specialists, interpreters, and facility apps with
  cases:read) sees the directory of active, verified specialists, plus their own profile.
- A specialist writes their own profile; staff write any; only staff change `verified`.
"""

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, false, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.core.clock import utcnow
from app.core.conditional import check_if_match, etag
from app.core.db import flush_orm
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role, Scope
from app.core.queries import Statement, queries
from app.specialists import repository as repo
from app.specialists.availability import (
    hour_masks,
    next_window_start,
    overlapping,
    time_off_span,
    window_span,
)
from app.specialists.models import (
    SpecialistLanguage,
    SpecialistProfile,
    SpecialistSpecialty,
    SpecialistTimeOff,
    SpecialistWindow,
    SpecialistZone,
)
from app.specialists.vocabulary import SPECIALTIES, is_specialty

P = SpecialistProfile


class SpecialistNotFound(NotFound):
    """No such specialist, or the caller may not see them."""


class UnknownSpecialty(Unprocessable):
    """The specialty code is not in the vocabulary."""

    code = "unknown-specialty"


class VerificationIsForCoordinators(Forbidden):
    """Only a coordinator (or admin) sets `verified`."""

    code = "verified-by-coordinator-only"


async def list_specialties(session: AsyncSession) -> list[dict[str, Any]]:
    """The vocabulary, each with how many specialists are on its roster (verified,
    accepting, active): a clinic choosing between two close specialties learns that one has
    nobody yet, before her case waits on the coordinators to find someone. (One on the
    roster may still be away or full when a case comes: ranking decides then.)"""
    ready = dict(
        (
            await session.execute(
                select(col(SpecialistSpecialty.specialty), func.count())
                .join(User, col(User.id) == col(SpecialistSpecialty.user_id))
                .where(
                    col(SpecialistSpecialty.ready).is_(True),
                    col(User.active).is_(True),
                    col(User.role) == Role.specialist.value,
                )
                .group_by(col(SpecialistSpecialty.specialty))
            )
        ).all()
    )
    return [
        {"code": c, "name": n, "ready_specialists": int(ready.get(c, 0))}
        for c, n in SPECIALTIES.items()
    ]


def check_specialty(code: str | None, pointer: str = "#query/specialty") -> None:
    if code is not None and not is_specialty(code):
        raise UnknownSpecialty(
            f"Unknown specialty {code!r}; see GET /specialties.",
            errors=[{"pointer": pointer, "detail": "unknown specialty"}],
        )


def visible_specialists(p: Principal) -> Any:
    """WHERE clause over User (outer-joined to the profile): specialists p may see."""
    base = col(User.role) == Role.specialist.value
    if p.is_client:
        if not p.has_scope(Scope.cases_read):
            return false()
        return base & col(User.active) & (col(P.verified) == true())
    if p.is_staff:
        return base
    return base & or_(col(User.id) == p.id, col(User.active) & (col(P.verified) == true()))


def _select() -> Any:
    # The bare id column is the keyset pagination key.
    return select(
        User, P, repo.active_cases(col(User.id)).label("active_cases"), col(User.id).label("id")
    ).outerjoin(P, col(P.user_id) == col(User.id))


def _next_window(prof: SpecialistProfile, now: datetime) -> datetime | None:
    """When she is next inside a weekly window and off no time off (the profile as read)."""
    spans = [window_span(w["weekday"], w["start"], w["end"]) for w in prof.availability]
    off = [
        (datetime.fromisoformat(t["start"]), datetime.fromisoformat(t["end"]))
        for t in prof.time_off
    ]
    return next_window_start(spans, prof.timezone, off, now)


def _read(
    user: User,
    profile: SpecialistProfile | None,
    active: int,
    *_: Any,
    now: datetime | None = None,
) -> dict[str, Any]:
    # Never written: version 0, the version put_profile compares If-Match with before the
    # first write (the first write makes it 1).
    prof = profile or SpecialistProfile(
        user_id=user.id, created_at=user.created_at, updated_at=user.updated_at, version=0
    )
    return {
        "id": user.id,
        "name": user.name,
        "active": user.active,
        "specialties": prof.specialties,
        "languages": prof.languages,
        "timezone": prof.timezone,
        "availability": prof.availability,
        "time_off": prof.time_off,
        "max_active_cases": prof.max_active_cases,
        "active_cases": int(active or 0),
        "accepting": prof.accepting,
        "verified": prof.verified,
        "next_window_start": _next_window(prof, now or utcnow()),
        "created_at": prof.created_at,
        "updated_at": prof.updated_at,
        "version": prof.version,
    }


async def get(session: AsyncSession, p: Principal, user_id: str) -> dict[str, Any]:
    row = (
        await session.execute(_select().where(col(User.id) == user_id, visible_specialists(p)))
    ).first()
    if row is None:
        raise SpecialistNotFound("No such specialist.")
    return _read(*row)


async def list_(
    session: AsyncSession,
    p: Principal,
    *,
    specialty: str | None,
    language: str | None,
    accepting: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    check_specialty(specialty)
    stmt = _select().where(visible_specialists(p))
    if specialty:
        stmt = stmt.where(
            select(col(SpecialistSpecialty.user_id))
            .where(
                col(SpecialistSpecialty.user_id) == col(User.id),
                col(SpecialistSpecialty.specialty) == specialty,
            )
            .exists()
        )
    if language:
        stmt = stmt.where(repo.speaks_any(col(User.id), repo.primary_subtags([language])))
    if accepting is not None:
        stmt = stmt.where(col(P.accepting) == accepting)
    rows, nxt = await keyset_page(
        session, stmt, col(User.id), limit, cursor, descending=False, scalars=False
    )
    now = utcnow()
    return [_read(*r, now=now) for r in rows], nxt


async def on_duty(
    session: AsyncSession,
    p: Principal,
    *,
    specialty: str | None,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Inside a weekly window right now in their own zone, not on time off, under capacity,
    accepting, verified and active."""
    check_specialty(specialty)
    now = now or utcnow()
    ready = (col(P.verified) == true()) & (col(P.accepting) == true())
    if specialty:
        ready = (
            ready
            & select(col(SpecialistSpecialty.user_id))
            .where(
                col(SpecialistSpecialty.user_id) == col(P.user_id),
                col(SpecialistSpecialty.specialty) == specialty,
            )
            .exists()
        )
    mow = repo.local_minute(await repo.zones_in_play(session), now, col(P.timezone))
    stmt = _select().where(
        visible_specialists(p),
        col(User.active) == true(),
        ready,
        repo.in_window(col(P.user_id), mow),
        ~repo.on_time_off(col(P.user_id), now),
        repo.active_cases(col(P.user_id)) < col(P.max_active_cases),
    )
    rows, nxt = await keyset_page(
        session, stmt, col(User.id), limit, cursor, descending=False, scalars=False
    )
    return [_read(*r, now=now) for r in rows], nxt


def profile_etag(profile: dict[str, Any]) -> str:
    """The ETag of a specialist as read (`get`, `put_profile`): the profile's version, and a
    digest of the read, because open cases, the next window and the name move without a
    write to the profile, and a 304 must not keep an old copy of them. If-Match compares
    the version alone (app.core.conditional), so a read a minute old still writes."""
    body = json.dumps(profile, sort_keys=True, default=str).encode()
    return etag(profile["version"], hashlib.blake2b(body, digest_size=6).hexdigest())


async def put_profile(
    session: AsyncSession,
    p: Principal,
    user_id: str,
    data: dict[str, Any],
    if_match: str | None = None,
) -> dict[str, Any]:
    user = await session.scalar(
        select(User)
        .outerjoin(P, col(P.user_id) == col(User.id))
        .where(col(User.id) == user_id, visible_specialists(p))
    )
    if user is None:
        raise SpecialistNotFound("No such specialist.")
    own = p.is_user and p.id == user.id
    if not (own or p.is_staff):
        raise Forbidden("A specialist writes their own profile; coordinators write any.")
    profile = await session.get(P, user.id, with_for_update=True)
    check_if_match(if_match, etag(profile.version if profile else 0), what="profile")
    windows = [w for w in data["availability"]]
    bad = overlapping(windows)
    if bad:
        raise Unprocessable(
            "Availability windows overlap.",
            code="overlapping-windows",
            errors=[
                {
                    "pointer": f"/availability/{i}",
                    "detail": "overlaps another window on the same day",
                    "code": "window_overlap",
                }
                for i in bad
            ],
        )
    spans = [time_off_span(t["start"], t["end"], data["timezone"]) for t in data["time_off"]]
    backwards = [i for i, (start, end) in enumerate(spans) if end <= start]
    if backwards:
        raise Unprocessable(
            "Time off must end after it starts.",
            code="bad-time-off",
            errors=[
                {
                    "pointer": f"/time_off/{i}/end",
                    "detail": "must be after start",
                    "code": "after_start",
                }
                for i in backwards
            ],
        )

    now = utcnow()
    created = profile is None
    if profile is None:
        profile = SpecialistProfile(user_id=user.id, created_at=now, version=0)
        session.add(profile)
    requested = data.get("verified")
    if requested is not None and requested != profile.verified:
        if not p.is_staff:
            raise VerificationIsForCoordinators("Only a coordinator sets verified.")
        profile.verified = requested
        profile.verified_by_id = p.id if requested else None
        profile.verified_at = now if requested else None
    elif (
        own
        and not p.is_staff
        and profile.verified
        and not set(data["specialties"]) <= set(profile.specialties)
    ):
        # A new specialty has not been checked: back to the coordinator for verification.
        profile.verified = False
        profile.verified_by_id = None
        profile.verified_at = None
    profile.specialties = list(dict.fromkeys(data["specialties"]))
    profile.languages = list(dict.fromkeys(data["languages"]))
    profile.timezone = data["timezone"]
    profile.availability = [
        {"weekday": w["weekday"], "start": w["start"], "end": w["end"]}
        for w in sorted(windows, key=lambda w: window_span(w["weekday"], w["start"], w["end"]))
    ]
    profile.time_off = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in sorted(spans)]
    profile.max_active_cases = data["max_active_cases"]
    profile.accepting = data["accepting"]
    profile.updated_at = now
    profile.version += 1
    await session.flush()

    # The side tables are rebuilt from the profile: small per specialist, and always in step.
    for model in (SpecialistSpecialty, SpecialistLanguage, SpecialistWindow, SpecialistTimeOff):
        await session.execute(
            delete(model)
            .where(col(model.user_id) == user.id)
            .execution_options(synchronize_session=False)
        )
    h0, h1, h2 = hour_masks([window_span(w["weekday"], w["start"], w["end"]) for w in windows])
    roster = {
        "user_id": user.id,
        "ready": profile.verified and profile.accepting,
        "hours_0": h0,
        "hours_1": h1,
        "hours_2": h2,
        "timezone": profile.timezone,
        "max_active_cases": profile.max_active_cases,
        "language_key": "," + ",".join(repo.primary_subtags(profile.languages)) + ",",
        "offers_accepted": profile.offers_accepted,
        "offers_declined": profile.offers_declined,
        "offers_expired": profile.offers_expired,
        "last_assigned_at": profile.last_assigned_at,
    }
    await session.execute(
        insert(SpecialistSpecialty), [{**roster, "specialty": s} for s in profile.specialties]
    )
    await session.execute(
        insert(SpecialistLanguage),
        [
            {"user_id": user.id, "language": lang}
            for lang in repo.primary_subtags(profile.languages)
        ],
    )
    if windows:
        await session.execute(
            insert(SpecialistWindow),
            [
                {"user_id": user.id, "start_minute": a, "end_minute": b}
                for a, b in (window_span(w["weekday"], w["start"], w["end"]) for w in windows)
            ],
        )
    if spans:
        await session.execute(
            insert(SpecialistTimeOff),
            [{"user_id": user.id, "start_at": a, "end_at": b} for a, b in spans],
        )
    if await session.get(SpecialistZone, profile.timezone) is None:
        try:
            async with session.begin_nested():
                session.add(SpecialistZone(timezone=profile.timezone))
        except IntegrityError:
            pass  # another profile write added the same zone meanwhile
    await audit.append(
        session,
        p,
        "specialist.profile." + ("create" if created else "update"),
        "specialist",
        user.id,
    )
    active = await session.scalar(select(repo.active_cases(user.id)))
    return _read(user, profile, active or 0)


OUTCOMES = ("offers_accepted", "offers_declined", "offers_expired")


async def record_offer_outcome(
    session: AsyncSession, user_id: str, outcome: str, assigned_at: datetime | None = None
) -> None:
    """Count an answered or lapsed offer (and an assignment) on the profile and on the
    roster rows ranking reads, in one step with the change that caused it."""
    assert outcome in OUTCOMES
    await flush_orm(session)
    db = await queries(session)  # an accept's hot path: one compiled statement per table
    params: dict[str, Any] = {"user_id": user_id}
    if assigned_at is not None:
        params["assigned_at"] = db.ts(assigned_at)
    for model in (SpecialistProfile, SpecialistSpecialty):
        await db.execute(_outcome_statement(model, outcome, assigned_at is not None), params)


_outcome_sql: dict[tuple[str, str, bool], Statement] = {}


def _outcome_statement(model: Any, outcome: str, assigned: bool) -> Statement:
    key = (model.__tablename__, outcome, assigned)
    found = _outcome_sql.get(key)
    if found is None:
        table = model.__table__
        values: dict[str, Any] = {outcome: table.c[outcome] + 1}
        if assigned:
            values["last_assigned_at"] = bindparam("assigned_at")
        found = _outcome_sql[key] = Statement(
            update(table).where(table.c.user_id == bindparam("user_id")).values(values)
        )
    return found
