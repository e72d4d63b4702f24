"""Follow-ups that someone owns, reminders when they fall due, and clinicians' feedback."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.access import (
    access_params,
    access_shape,
    can_act_as_local,
    facility_scoped,
    full_access,
    load_case_child,
)
from app.cases.models import Case, CaseStatus
from app.core.clock import utcnow
from app.core.conditional import check_if_match, etag
from app.core.config import get_settings
from app.core.db import is_postgres
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import decode_cursor, encode_cursor
from app.core.principal import Principal
from app.core.queries import Statement, queries, row_ts
from app.events.service import emit
from app.followups import planning
from app.followups.models import Feedback, FollowUp, FollowUpStatus, is_overdue
from app.followups.planning import FollowUpClosed
from app.notes.service import is_case_specialist

OPEN_CASE = (
    CaseStatus.submitted,
    CaseStatus.offered,
    CaseStatus.assigned,
    CaseStatus.answered,
    CaseStatus.unmatched,
)


class FollowUpNotFound(NotFound):
    """No such follow-up, or the caller may not see its case."""


class CaseNotOpen(Conflict):
    """The case is closed or cancelled."""

    code = "case-not-open"


class CaseNotAnswered(Conflict):
    """Feedback is on the answer: the case must be answered (or closed after an answer)."""

    code = "case-not-answered"


async def _may_work_on(session: AsyncSession, p: Principal, case: Case) -> bool:
    """Who plans follow-up on a case: staff, the facility that leads it, its specialists."""
    return p.is_staff or can_act_as_local(p, case) or await is_case_specialist(session, p, case)


async def create(session: AsyncSession, p: Principal, case: Case, data: dict[str, Any]) -> FollowUp:
    if not await _may_work_on(session, p, case):
        raise Forbidden("Your role may not plan follow-up on this case.")
    # Held and read again, as a cancel holds it: a cancel committing meanwhile (and its
    # listener closing the case's open follow-ups) cannot leave this one open behind it.
    await session.refresh(case, with_for_update=True)
    if case.status not in OPEN_CASE:
        raise CaseNotOpen(f"A case that is {case.status} takes no new follow-ups.")
    planning.check_due(data["due_at"])
    assignee = await planning.owner(session, data["assignee_id"], case)
    fu = FollowUp(
        case_id=case.id,
        organization_id=case.organization_id,
        specialty=case.specialty,
        due_at=data["due_at"],
        description=data["description"],
        assignee_id=assignee.id,
        created_by_id=p.id,
    )
    session.add(fu)
    await session.flush()
    await emit(
        session,
        "followup.created",
        "follow_up",
        fu.id,
        organization_id=case.organization_id,
        audience=[assignee.id],
        payload={"follow_up_id": fu.id, "case_id": case.id, "due_at": fu.due_at.isoformat()},
    )
    await audit.append(session, p, "follow_up.create", "follow_up", fu.id)
    return fu


async def _visible(session: AsyncSession, p: Principal, fu_id: str) -> tuple[FollowUp, Case]:
    fu, case = await load_case_child(
        session,
        p,
        FollowUp,
        fu_id,
        resource="follow_up",
        not_found=FollowUpNotFound("No such follow-up."),
    )
    return fu, case


async def read(session: AsyncSession, p: Principal, fu_id: str) -> FollowUp:
    fu, _ = await _visible(session, p, fu_id)
    await audit.append(session, p, "follow_up.read", "follow_up", fu.id)
    return fu


_FOLLOW_UP: Any = FollowUp.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_CASE: Any = Case.__table__  # type: ignore[attr-defined]
# The list's cursors, as keyset_page names them (its table and key column).
_CURSOR = "follow_up.id"
_list_sql: dict[tuple[Any, ...], Statement] = {}
_FILTERS = ("status", "overdue", "not_overdue", "case_id", "assignee_id", "after")


def _list_statement(p: Principal, filters: tuple[str, ...]) -> Statement:
    """Built once per shape of principal and filters, values bound per call."""
    key = (access_shape(p), filters)
    found = _list_sql.get(key)
    if found is None:
        fu = _FOLLOW_UP.c
        # The same rule as a single read: follow-ups of cases the caller sees in full.
        stmt = (
            select(_FOLLOW_UP, _CASE.c.question.label("case_question"))
            .join(_CASE, _CASE.c.id == fu.case_id)
            .where(full_access(p))
        )
        if facility_scoped(p):
            # The same rows (a follow-up keeps its case's facility), found newest first on
            # ix_follow_up_org_id instead of through every case of a busy facility.
            stmt = stmt.where(fu.organization_id == bindparam("acc_org"))
        open_ = FollowUpStatus.open.value
        rules = {
            "status": fu.status == bindparam("f_status"),
            "overdue": (fu.status == open_) & (fu.due_at <= bindparam("now")),
            "not_overdue": (fu.status != open_) | (fu.due_at > bindparam("now")),
            "case_id": fu.case_id == bindparam("f_case_id"),
            "assignee_id": fu.assignee_id == bindparam("f_assignee_id"),
            "after": fu.id < bindparam("after"),
        }
        for name in filters:
            stmt = stmt.where(rules[name])
        stmt = stmt.order_by(fu.id.desc()).limit(bindparam("lim"))
        found = _list_sql[key] = Statement(stmt)
    return found


async def list_(
    session: AsyncSession,
    p: Principal,
    *,
    status: str | None,
    overdue: bool | None,
    case_id: str | None,
    assignee_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; one statement on the fast lane."""
    after = decode_cursor(cursor, _CURSOR) if cursor else None  # `?cursor=` (empty): the first page
    given = {
        "status": status,
        "overdue": overdue is True,
        "not_overdue": overdue is False,
        "case_id": case_id,
        "assignee_id": assignee_id,
        "after": after is not None,
    }
    db = await queries(session)
    params = {
        **access_params(p),
        "f_status": status,
        "f_case_id": case_id,
        "f_assignee_id": assignee_id,
        "now": db.ts(utcnow()),
        "after": after,
        "lim": limit + 1,
    }
    stmt = _list_statement(p, tuple(n for n in _FILTERS if given[n]))
    rows = await db.fetch_dicts(stmt, params)
    items = rows[:limit]
    for item in items:
        item["overdue"] = is_overdue(item["status"], item["due_at"])
    nxt = encode_cursor(items[-1]["id"], _CURSOR) if len(rows) > limit and items else None
    # Which cases' follow-ups (and questions) were read, as a case list names its cases.
    cases = ",".join(dict.fromkeys(item["case_id"] for item in items))
    await audit.append(
        session, p, "follow_up.list", "follow_up", None, detail=f"cases={cases}"[:2000]
    )
    return items, nxt


async def change(
    session: AsyncSession, p: Principal, fu_id: str, if_match: str | None, data: dict[str, Any]
) -> FollowUp:
    fu, case = await _visible(session, p, fu_id)
    plans = await _may_work_on(session, p, case)
    if not (fu.assignee_id == p.id or plans):
        raise Forbidden("Only its owner, the case's team and coordinators change a follow-up.")
    if not plans and (data.get("due_at") is not None or data.get("assignee_id") is not None):
        # Its owner ends it; planning it again is for those who plan (an interpreter may own
        # one, and would otherwise hand it on to anyone who sees the case).
        raise Forbidden("Only the case's team and coordinators plan a follow-up again.")
    # Held and read again: of two changes at once the second sees the first's version (412
    # with a stale If-Match) and what it wrote (an ending, a new owner).
    await session.refresh(fu, with_for_update={"key_share": True})
    check_if_match(if_match, etag(fu.version), what="follow-up")
    values: dict[str, Any] = {}
    new_status = data.get("status")
    if new_status is not None:
        if fu.status != FollowUpStatus.open:
            raise FollowUpClosed(f"This follow-up is already {fu.status}.")
        values["status"] = str(new_status)
        values["completed_at"] = utcnow()
    if data.get("outcome") is not None:
        values["outcome"] = data["outcome"]
    before = (fu.due_at, fu.assignee_id)
    values |= await planning.replanned(session, fu, case, data, ending=new_status is not None)
    if not values:
        return fu
    now = utcnow()
    result = await session.execute(
        update(FollowUp)
        .where(col(FollowUp.id) == fu.id, col(FollowUp.version) == fu.version)
        .values(version=fu.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        raise FollowUpClosed("This follow-up changed meanwhile: read it again.")
    await session.refresh(fu)
    if (fu.due_at, fu.assignee_id) != before:
        session.add(await planning.move(session, fu, before, p.id, now))
    if new_status is not None or (fu.due_at, fu.assignee_id) != before:
        # Told: its owner, whoever planned it, and an owner it was taken from.
        told = {fu.assignee_id, before[1], *([fu.created_by_id] if fu.created_by_id else [])}
        await emit(
            session,
            "followup.updated",
            "follow_up",
            fu.id,
            organization_id=case.organization_id,
            audience=sorted(told - {p.id}),
            payload={
                "follow_up_id": fu.id,
                "case_id": case.id,
                "status": fu.status,
                "due_at": fu.due_at.isoformat(),
                "assignee_id": fu.assignee_id,
                # Handed on: from whom (its new owner is told, app.notifications.listeners).
                **({"from_assignee_id": before[1]} if fu.assignee_id != before[1] else {}),
            },
        )
    await audit.append(
        session, p, "follow_up.update", "follow_up", fu.id, detail=planning.said(values, before, fu)
    )
    return fu


_CANCEL_OPEN = Statement(
    update(_FOLLOW_UP)
    .where(
        _FOLLOW_UP.c.case_id == bindparam("case_id"),
        _FOLLOW_UP.c.status == FollowUpStatus.open.value,
    )
    .values(
        status=FollowUpStatus.cancelled.value,
        completed_at=bindparam("now"),
        updated_at=bindparam("now"),
        version=_FOLLOW_UP.c.version + 1,
    )
    .returning(
        _FOLLOW_UP.c.id, _FOLLOW_UP.c.assignee_id, _FOLLOW_UP.c.created_by_id, _FOLLOW_UP.c.due_at
    )
)


async def cancel_open_of(
    session: AsyncSession, case_id: str, organization_id: str | None, actor_id: str | None
) -> int:
    """A cancelled case takes no more care: its open follow-ups are cancelled with it, in
    the cancelling transaction, each heard of as one ended by hand is. Left open, they would
    stay late in every list for good, and nobody could end them (a cancelled case's page
    shows no follow-ups)."""
    db = await queries(session)
    rows = await db.fetch(_CANCEL_OPEN, {"case_id": case_id, "now": db.ts(utcnow())})
    for fu_id, assignee_id, created_by_id, due in rows:
        due_at = row_ts(due)
        await emit(
            session,
            "followup.updated",
            "follow_up",
            fu_id,
            organization_id=organization_id,
            audience=sorted(
                {assignee_id, *([created_by_id] if created_by_id else [])} - {actor_id}
            ),
            # As a follow-up ended by hand is announced (change), so a listener reads one shape.
            payload={
                "follow_up_id": fu_id,
                "case_id": case_id,
                "status": "cancelled",
                "due_at": due_at.isoformat() if due_at else None,  # a follow-up always has one
                "assignee_id": assignee_id,
            },
        )
        await audit.append(
            session,
            audit.SERVICE,
            "follow_up.update",
            "follow_up",
            fu_id,
            detail=f"status: cancelled with case {case_id} (by {actor_id or 'the service'})",
        )
    return len(rows)


async def notify_due(session: AsyncSession, now: datetime | None = None, batch: int = 200) -> int:
    """Tell each owner once that their follow-up fell due (`followup.due`), and once more
    when it is still open FOLLOWUP_OVERDUE_HOURS later (`followup.overdue`); one found
    already that late is announced overdue only. Several workers on PostgreSQL share the
    work: rows another worker holds are skipped, not waited for."""
    now = now or utcnow()
    late = now - timedelta(hours=get_settings().followup_overdue_hours)
    told = await _announce(
        session,
        "followup.overdue",
        col(FollowUp.overdue_notified_at).is_(None) & (col(FollowUp.due_at) <= late),
        now,
        batch,
    )
    return told + await _announce(
        session,
        "followup.due",
        col(FollowUp.due_notified_at).is_(None) & (col(FollowUp.due_at) <= now),
        now,
        batch,
    )


async def _announce(session: AsyncSession, type: str, cond: Any, now: datetime, batch: int) -> int:
    stmt = (
        select(FollowUp, col(Case.organization_id))
        .join(Case, col(Case.id) == col(FollowUp.case_id))
        .where(col(FollowUp.status) == FollowUpStatus.open.value, cond)
        .order_by(col(FollowUp.due_at))
        .limit(batch)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(of=FollowUp, skip_locked=True)
    rows = (await session.execute(stmt)).all()
    for fu, org_id in rows:
        fu.due_notified_at = fu.due_notified_at or now  # overdue says it was due, too
        if type == "followup.overdue":
            fu.overdue_notified_at = now
        await emit(
            session,
            type,
            "follow_up",
            fu.id,
            organization_id=org_id,
            audience=[fu.assignee_id],
            payload={
                "follow_up_id": fu.id,
                "case_id": fu.case_id,
                "due_at": fu.due_at.isoformat(),
                "description": fu.description,
            },
        )
    await session.flush()
    return len(rows)


async def _feedback_given(session: AsyncSession, case: Case, fb: Feedback) -> None:
    """Announce it (reporting's measures listen), naming the case, not what was said."""
    await emit(
        session,
        "feedback.given",
        "feedback",
        fb.id,
        organization_id=case.organization_id,
        payload={"feedback_id": fb.id, "case_id": case.id, "revision": fb.revision},
    )


async def give_feedback(
    session: AsyncSession, p: Principal, case: Case, data: dict[str, Any]
) -> tuple[Feedback, bool]:
    """One answer per clinician per case; a second replaces the first, which is kept in
    `replaced`. Returns (feedback, created)."""
    if not can_act_as_local(p, case):
        raise Forbidden("Feedback comes from the referring facility.")
    if case.status not in (CaseStatus.answered, CaseStatus.closed) or case.answered_at is None:
        raise CaseNotAnswered("Feedback is given once the case has been answered.")
    q = select(Feedback).where(col(Feedback.case_id) == case.id, col(Feedback.author_id) == p.id)
    if is_postgres(session):
        q = q.with_for_update()
    existing = await session.scalar(q)
    if existing is None:
        fb = Feedback(case_id=case.id, author_id=p.id, **data)
        try:
            # Two first answers at once: the unique key lets one in; the other replaces it.
            async with session.begin_nested():
                session.add(fb)
                await session.flush()
        except IntegrityError:
            existing = await session.scalar(q)
            if existing is None:  # pragma: no cover - the unique key names no other cause
                raise
        else:
            await _feedback_given(session, case, fb)
            await audit.append(session, p, "feedback.create", "feedback", fb.id)
            return fb, True
    earlier = {
        "usefulness": existing.usefulness,
        "changed_management": existing.changed_management,
        "comment": existing.comment,
        "answered_at": existing.updated_at.isoformat(),
    }
    existing.replaced = [*existing.replaced, earlier]
    for k, v in data.items():
        setattr(existing, k, v)
    existing.revision += 1
    existing.updated_at = utcnow()
    await session.flush()
    await _feedback_given(session, case, existing)
    await audit.append(
        session,
        p,
        "feedback.replace",
        "feedback",
        existing.id,
        detail=f"revision {existing.revision} replaces revision {existing.revision - 1}",
    )
    return existing, False
