"""Case intake, reads, participants, cancel and close. No HTTP here: domain errors only.

Visibility comes from app.cases.access (the one rule); status changes go through
app.cases.lifecycle.transition (the one state machine). Every change writes its event in
the request's transaction and appends its audit row (one INSERT; app.audit.service chains
it after the commit).
"""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, select, text, true
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.cases import lifecycle
from app.cases.access import (
    CaseNotFound,
    View,
    access_params,
    access_shape,
    can_act_as_local,
    full_access,
    summary_access,
)
from app.cases.models import Case, CaseListing, CaseParticipant, CaseStatus
from app.cases.presentation import etag
from app.cases.schemas import CaseCreate
from app.core import conditional
from app.core.config import get_settings
from app.core.db import new_id, utcnow
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.pagination import decode_cursor, keyset_page, page_of
from app.core.principal import Principal, Role, Scope
from app.core.queries import Queries, Statement, named_dialect, queries
from app.events.service import emit


class ConsentRequired(Unprocessable):
    """A case is only accepted once the patient's consent was obtained."""

    code = "consent-required"


class InvalidFollowUp(Unprocessable):
    """follow_up_of must name an earlier case of the same facility and patient."""

    code = "invalid-follow-up"


class UnknownFacility(Unprocessable):
    """The facility named in organization_id does not exist."""

    code = "unknown-organization"


class CaseIsClosed(Conflict):
    """The case is closed or cancelled; nothing more can be added to it."""

    code = "case-closed"


class CaseCancelled(CaseIsClosed):
    """The case was cancelled (sent by mistake): its conversation is kept to read only."""

    code = "case-cancelled"


class AlreadyParticipant(Conflict):
    """The user already takes part in this case."""

    code = "already-participant"


class InvalidParticipant(Unprocessable):
    """The user cannot join the case in that role."""

    code = "invalid-participant"


# ---------------------------------------------------------------- intake


_FACILITY = Statement("SELECT id FROM organization WHERE id = :id")
_EARLIER = Statement('SELECT organization_id, patient_reference FROM "case" WHERE id = :id')
_CASE_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "submitted_by_id",
    "submitted_by_client_id",
    "specialty",
    "urgency",
    "question",
    "summary",
    "patient_reference",
    "patient_age_years",
    "patient_sex",
    "languages",
    "interpreter_needed",
    "consent_method",
    "follow_up_of_id",
    "status",
    "respond_by",
    "version",
)
_INSERT_CASE = Statement.insert("case", _CASE_COLUMNS)


async def _facility_for(db: Queries, actor: Principal, requested: str | None) -> str:
    """Which facility a new case belongs to, and whether the actor may submit for it."""
    if actor.is_client:
        actor.require_scope(Scope.cases_write)
        own = actor.organization_id
    elif actor.role == Role.clinician:
        own = actor.organization_id
        if own is None:
            raise Forbidden("You do not belong to a facility.")
    elif actor.is_staff:
        if requested is None:
            raise Unprocessable(
                "Coordinators and admins submit on a facility's behalf: give organization_id.",
                errors=[{"pointer": "/organization_id", "detail": "required for staff"}],
            )
        if await db.fetchrow(_FACILITY, {"id": requested}) is None:
            raise UnknownFacility(
                "No such facility.",
                errors=[{"pointer": "/organization_id", "detail": "no such facility"}],
            )
        return requested
    else:
        raise Forbidden("Only a facility's clinicians (or coordinators for them) submit cases.")
    if requested is not None and requested != own:
        raise Forbidden("You submit cases for your own facility only.")
    assert own is not None
    return own


async def create_case(session: AsyncSession, actor: Principal, body: CaseCreate) -> SimpleNamespace:
    """Intake: three INSERTs on the fast lane (app.core.queries). Returns the new case's
    values (what `present` and `etag` read)."""
    db = await queries(session)
    org_id = await _facility_for(db, actor, body.organization_id)
    if not body.consent.obtained:
        raise ConsentRequired(
            "The patient's consent must be obtained before a case is submitted.",
            errors=[
                {
                    "pointer": "/consent/obtained",
                    "detail": "must be true",
                    "code": "consent_required",
                }
            ],
        )
    if body.follow_up_of is not None:
        earlier = await db.fetchrow(_EARLIER, {"id": body.follow_up_of})
        # The same answer for "no such case" and "another facility's case": no existence leak.
        if earlier is None or earlier[0] != org_id:
            raise InvalidFollowUp(
                "follow_up_of is not a case of this facility.",
                errors=[{"pointer": "/follow_up_of", "detail": "not a case of this facility"}],
            )
        if earlier[1] != body.patient.reference:
            raise InvalidFollowUp(
                "follow_up_of is a case of another patient.",
                errors=[{"pointer": "/follow_up_of", "detail": "another patient's case"}],
            )

    now = utcnow()
    minutes = get_settings().respond_by_minutes[body.urgency.value]
    case = SimpleNamespace(
        id=new_id("case"),
        created_at=now,
        updated_at=now,
        organization_id=org_id,
        submitted_by_id=actor.id if actor.is_user else None,
        submitted_by_client_id=actor.id if actor.is_client else None,
        specialty=body.specialty,
        urgency=body.urgency.value,
        question=body.question,
        summary=body.summary,
        patient_reference=body.patient.reference,
        patient_age_years=body.patient.age_years,
        patient_sex=body.patient.sex,
        languages=body.languages,
        interpreter_needed=body.interpreter_needed,
        consent_method=body.consent.method,
        follow_up_of_id=body.follow_up_of,
        status=CaseStatus.submitted.value,
        respond_by=now + timedelta(minutes=minutes),
        version=1,
        assigned_specialist_id=None,
        assigned_at=None,
        answered_at=None,
        closed_at=None,
        cancelled_at=None,
        outcome=None,
        cancel_reason=None,
        overdue=False,
    )
    row = {c: getattr(case, c) for c in _CASE_COLUMNS}
    row.update(
        created_at=db.ts(now),
        updated_at=db.ts(now),
        respond_by=db.ts(case.respond_by),
        languages=db.json(case.languages),
    )
    await db.execute(_INSERT_CASE, row)
    await emit_submitted(session, case)
    await audit.append(session, actor, "case.create", "case", case.id)
    return case


async def emit_submitted(session: AsyncSession, case: Any) -> None:
    """The case.submitted event of a new case, in the writer's transaction."""
    await emit(
        session,
        "case.submitted",
        "case",
        case.id,
        organization_id=case.organization_id,
        audience=lifecycle.audience(case),
        payload={
            "case_id": case.id,
            "status": case.status,
            "specialty": case.specialty,
            "urgency": case.urgency,
            "respond_by": case.respond_by.isoformat(),
            "follow_up_of": case.follow_up_of_id,
        },
    )


# ---------------------------------------------------------------- reads


_read_sql: dict[tuple[Any, ...], Statement] = {}


def _read_statement(dialect: str, actor: Principal) -> Statement:
    """One case under the access rule, with its version, whether the caller sees it in full,
    and its JSON in that view as the database keeps it (app.cases.listing): the same rule
    and the same JSON as the list. Compiled once per shape of principal, as the list is."""
    key = (dialect, access_shape(actor))
    found = _read_sql.get(key)
    if found is None:
        listed = _LISTING_TABLE.c
        full = and_(true(), full_access(actor))
        stmt = (
            select(
                _CASE_TABLE.c.version,
                full.label("full"),
                sql_case((full, listed.full_json), else_=listed.summary_json).label("json"),
            )
            .join_from(_CASE_TABLE, _LISTING_TABLE, listed.case_id == _CASE_TABLE.c.id)
            .where(_CASE_TABLE.c.id == bindparam("case_id"), summary_access(actor))
        )
        found = _read_sql[key] = Statement(stmt)
    return found


async def read_case(session: AsyncSession, actor: Principal, case_id: str) -> tuple[str, str]:
    """The case's JSON in the caller's view, and its ETag; audited (even when the caller's
    copy turns out current). 404 for anyone who may not see it, audited as denied. (The
    route takes CasesRead.)"""
    db = await queries(session)
    row = await db.fetchrow(
        _read_statement(db.dialect, actor), {**access_params(actor), "case_id": case_id}
    )
    if row is None:
        # Kept in the audit log although the request itself rolls back.
        await audit.append_denied(actor, "case.read", "case", case_id[:40])
        raise CaseNotFound("No such case.")
    view = View.full if row[1] else View.summary
    action = "case.read" if view == View.full else "case.read_summary"
    await audit.append(session, actor, action, "case", case_id)
    return row[2], conditional.etag(row[0], None if view == View.full else view.value)


_FILTERS = ("status", "specialty", "urgency", "organization_id", "overdue")
_list_sql: dict[tuple[Any, ...], Statement] = {}
_CASE_TABLE: Any = Case.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_LISTING_TABLE: Any = CaseListing.__table__  # type: ignore[attr-defined]


def _list_statement(
    db: Queries, actor: Principal, filters: tuple[str, ...], after: bool
) -> Statement:
    """The list's SQL for this shape of principal and filters, compiled once: building the
    access rule's statement cost more than running it. Values go in as named parameters.
    Each row is the case's id and its JSON in the view the caller has of it, as the
    database keeps it (app.cases.listing): presenting and serialising 50 cases in Python,
    or building their JSON in this query, cost more than reading it."""
    key = (db.dialect, access_shape(actor), filters, after)
    found = _list_sql.get(key)
    if found is None:
        d = db.dialect
        listed = _LISTING_TABLE.c
        as_json = sql_case(
            (and_(true(), full_access(actor)), listed.full_json), else_=listed.summary_json
        )
        stmt = (
            select(_CASE_TABLE.c.id, as_json.label("json"))
            .join_from(_CASE_TABLE, _LISTING_TABLE, listed.case_id == _CASE_TABLE.c.id)
            .where(summary_access(actor))
        )
        for name in filters:
            stmt = stmt.where(_CASE_TABLE.c[name] == bindparam(f"f_{name}"))
        if after:
            stmt = stmt.where(_CASE_TABLE.c.id < bindparam("after"))
        stmt = stmt.order_by(_CASE_TABLE.c.id.desc()).limit(bindparam("lim"))
        if d == "postgresql":
            # The audit entry of what was listed goes out in the list's own statement: a
            # round trip fewer, and still one transaction (the values are audit's own).
            compiled = stmt.compile(dialect=named_dialect(d))
            page = "SELECT id FROM page ORDER BY id DESC LIMIT :page_size"
            listed = text(
                f"WITH page AS ({compiled.string}), "
                f"logged AS ({audit.listed_sql(page, 'l.id DESC')}) "
                "SELECT id, json FROM page ORDER BY id DESC"
            ).bindparams(*(bindparam(k, v) for k, v in compiled.params.items() if v is not None))
            found = _list_sql[key] = Statement(listed)
        else:
            found = _list_sql[key] = Statement(stmt)
    return found


async def list_cases(
    session: AsyncSession,
    actor: Principal,
    limit: int,
    cursor: str | None,
    *,
    status: str | None = None,
    specialty: str | None = None,
    urgency: str | None = None,
    organization_id: str | None = None,
    overdue: bool | None = None,
) -> tuple[list[str], str | None]:
    """Newest first, built from the same rule as a read: never wider than GET /cases/{id}.
    Items are JSON texts, as the database keeps them (app.cases.listing)."""
    actor.require_scope(Scope.cases_read)
    db = await queries(session)
    given: dict[str, object] = {"status": status, "specialty": specialty, "urgency": urgency}
    given["organization_id"] = organization_id
    given["overdue"] = overdue
    filters = tuple(n for n in _FILTERS if given[n] is not None and given[n] != "")
    after = decode_cursor(cursor, "case") if cursor else None  # `?cursor=` (empty): the first page
    stmt = _list_statement(db, actor, filters, after is not None)
    params = {**access_params(actor), "lim": limit + 1, "after": after}
    params.update({f"f_{n}": given[n] for n in filters})
    if db.dialect == "postgresql":  # the statement writes the audit entry too
        params.update(audit.listed_params(db, actor, "case.list", "case"), page_size=limit)
    rows = await db.fetch(stmt, params)
    page, nxt = page_of(rows, limit, "case", key=0)
    if page and db.dialect != "postgresql":
        await audit.append(
            session, actor, "case.list", "case", None, detail=",".join(r[0] for r in page)
        )
    return [r[1] for r in page], nxt


# ---------------------------------------------------------------- participants


async def add_participant(
    session: AsyncSession, actor: Principal, case: Case, view: View, user_id: str, role: str
) -> CaseParticipant:
    if not (
        actor.is_staff
        or can_act_as_local(actor, case)
        or (view == View.full and actor.is_user and case.assigned_specialist_id == actor.id)
    ):
        raise Forbidden(
            "Only coordinators, the case's facility or its assigned specialist add participants."
        )
    # Held, then judged: another change at the same moment (a cancellation, a second
    # person added) is seen, and each bumps the version once.
    await lifecycle.hold(session, case)
    if case.status in (CaseStatus.closed, CaseStatus.cancelled):
        raise CaseIsClosed(f"The case is {case.status}.")
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidParticipant(
            "No such active user.",
            errors=[{"pointer": "/user_id", "detail": "no such active user"}],
        )
    if user.role != role:
        raise InvalidParticipant(
            f"That user is not a {role}.",
            errors=[{"pointer": "/role", "detail": f"the user's role is {user.role}"}],
        )
    if user.id == case.assigned_specialist_id:
        raise AlreadyParticipant("That specialist is already assigned to the case.")
    part = CaseParticipant(case_id=case.id, user_id=user.id, role=role, added_by_id=actor.id)
    try:
        async with session.begin_nested():
            session.add(part)
    except IntegrityError as e:
        raise AlreadyParticipant("That user already takes part in this case.") from e
    case.updated_at = part.created_at
    case.version += 1
    await emit(
        session,
        "case.participant_added",
        "case",
        case.id,
        organization_id=case.organization_id,
        audience=[*lifecycle.audience(case), user.id],
        payload={"case_id": case.id, "user_id": user.id, "role": role, "actor_id": actor.id},
    )
    await audit.append(
        session, actor, "case.participant.add", "case", case.id, detail=f"{role}:{user.id}"
    )
    return part


async def list_participants(
    session: AsyncSession, actor: Principal, case: Case, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    stmt = select(CaseParticipant).where(col(CaseParticipant.case_id) == case.id)
    return await keyset_page(session, stmt, CaseParticipant.id, limit, cursor, descending=False)


# ---------------------------------------------------------------- cancel and close


async def cancel_case(
    session: AsyncSession, actor: Principal, case: Case, reason: str | None, if_match: str | None
) -> Case:
    if not (actor.is_staff or can_act_as_local(actor, case)):
        raise Forbidden("Only coordinators or the case's facility cancel a case.")
    # Locked and read again: a specialist may be accepting one of its offers right now
    # (accepting locks the case the same way), and If-Match must see the latest version.
    await lifecycle.hold(session, case)
    conditional.check_if_match(if_match, etag(case), what="case")
    await lifecycle.transition(session, case, CaseStatus.cancelled, actor.id, reason=reason)
    case.cancel_reason = reason
    # Its pending offers are withdrawn in this transaction by matching, which listens to
    # case.cancelled (app/matching/listeners.py).
    await session.flush()
    await audit.append(session, actor, "case.cancel", "case", case.id, detail=reason)
    return case


async def close_case(
    session: AsyncSession, actor: Principal, case: Case, outcome: str, if_match: str | None
) -> Case:
    if not (actor.is_staff or can_act_as_local(actor, case)):
        raise Forbidden("Only coordinators or the case's facility close a case.")
    await lifecycle.hold(session, case)  # a cancellation may be under way
    conditional.check_if_match(if_match, etag(case), what="case")
    await lifecycle.transition(session, case, CaseStatus.closed, actor.id)
    case.outcome = outcome
    await session.flush()
    await audit.append(session, actor, "case.close", "case", case.id)
    return case
