"""Escalation on a case's deadline, while nobody answers it.

With nobody assigned: at half the window (submitted to respond_by) the offer is widened
down the ranking; at four fifths the coordinators are told. At respond_by a case with no
signed note is marked overdue (app.cases.overdue: the flag, `case.overdue` to partners and
the live feeds), and the coordinators are told. Each step happens once, is audited, and
shows in the case's record (app.notifications.record).

The state is one row per open case (case_escalation), seeded by the pass itself, so every
case is covered however it was created and a restart loses nothing."""

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.models import Case, CaseStatus
from app.cases.overdue import CAN_BE_OVERDUE, mark_overdue
from app.core.clock import utcnow
from app.core.db import is_postgres, unit_of_work
from app.matching.service import offer_next
from app.notifications.content import link
from app.notifications.kinds import Kind
from app.notifications.listeners import case_facts, coordinators
from app.notifications.models import CaseEscalation
from app.notifications.service import notify

UNASSIGNED = (CaseStatus.submitted, CaseStatus.offered, CaseStatus.unmatched)
WIDEN_COUNT = 2  # more specialists offered at once when half the window has gone


def _next_step(row: CaseEscalation, unassigned: bool) -> datetime:
    steps = [row.deadline]
    if unassigned and row.widened_at is None:
        steps.append(row.widen_at)
    if unassigned and row.coordinators_told_at is None:
        steps.append(row.tell_at)
    return min(steps)


async def seed(session: AsyncSession, batch: int = 500) -> int:
    """An escalation row for every open case that has none yet."""
    rows = (
        await session.execute(
            select(col(Case.id), col(Case.created_at), col(Case.respond_by), col(Case.status))
            .where(
                col(Case.status).in_([s.value for s in CAN_BE_OVERDUE]),
                col(Case.overdue).is_(False),
                ~exists().where(col(CaseEscalation.case_id) == col(Case.id)),
            )
            .limit(batch)
        )
    ).all()
    for case_id, created, respond_by, status in rows:
        window = respond_by - created
        row = CaseEscalation(
            case_id=case_id,
            widen_at=created + window / 2,
            tell_at=created + window * 4 / 5,
            deadline=respond_by,
        )
        row.next_at = _next_step(row, status in UNASSIGNED)
        session.add(row)
    await session.flush()
    return len(rows)


async def _tell_coordinators(session: AsyncSession, case: Case) -> None:
    _, facts = await case_facts(session, case.id)
    for uid in await coordinators(session):
        await notify(
            session,
            uid,
            Kind.case_unmatched,
            data={**facts, "stage": "deadline_near"},
            link=link(f"/cases/{case.id}"),
            case_id=case.id,
            dedupe_key=f"near:{case.id}:{uid}",
        )


async def escalate(session: AsyncSession, row: CaseEscalation, case: Case, now: datetime) -> None:
    """Take every step whose time has come, for one locked case."""
    if case.status not in CAN_BE_OVERDUE or case.overdue:
        row.next_at = None
        return
    unassigned = case.status in UNASSIGNED
    if unassigned and row.widened_at is None and now >= row.widen_at:
        offers = (
            []
            if case.status == CaseStatus.unmatched
            else await offer_next(session, case, WIDEN_COUNT, None, now)
        )
        row.widened_at, row.widened_offers = now, len(offers)
        await audit.append(
            session,
            audit.SERVICE,
            "case.escalate.widen",
            "case",
            case.id,
            detail=f"offers={len(offers)}",
        )
    unassigned = case.status in UNASSIGNED  # widening may have matched nobody: still so
    if unassigned and row.coordinators_told_at is None and now >= row.tell_at:
        await _tell_coordinators(session, case)
        row.coordinators_told_at = now
        await audit.append(session, audit.SERVICE, "case.escalate.coordinators", "case", case.id)
    if now >= case.respond_by:
        if await mark_overdue(session, case):
            row.overdue_at = now
        row.next_at = None
        return
    row.deadline = case.respond_by
    row.next_at = _next_step(row, unassigned)


async def step_due(session: AsyncSession, now: datetime, batch: int = 50) -> int:
    stmt = (
        select(CaseEscalation)
        .where(col(CaseEscalation.next_at) <= now)
        .order_by(col(CaseEscalation.next_at))
        .limit(batch)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list((await session.scalars(stmt)).all())
    done = 0
    for row in rows:
        lock = select(Case).where(col(Case.id) == row.case_id)
        if is_postgres(session):
            lock = lock.with_for_update(skip_locked=True)
        case = await session.scalar(lock.execution_options(populate_existing=True))
        if case is None:
            continue  # another worker holds the case: next pass
        await escalate(session, row, case, now)
        done += 1
    await session.flush()
    return done


async def run_escalation() -> None:
    async with unit_of_work() as session:
        await seed(session)
    async with unit_of_work() as session:
        await step_due(session, utcnow())
