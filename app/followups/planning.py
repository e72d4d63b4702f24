"""What makes a follow-up's plan: a due time not already past and an owner who sees the
case, when it is planned and when it is planned again (a new time, a new owner). No HTTP."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.cases.access import full_access
from app.cases.models import Case
from app.core.clock import utcnow
from app.core.errors import Conflict, Unprocessable
from app.core.principal import Principal, PrincipalKind, Role
from app.core.queries import row_ts
from app.followups.models import FollowUp, FollowUpMove, FollowUpStatus

# How far in the past a new follow-up may be due: "today at 9:00", typed at 9:40, is meant.
PAST_DUE_GRACE = timedelta(hours=1)
MOVES = ("due_at", "assignee_id")


class FollowUpClosed(Conflict):
    """A follow-up that is done, missed or cancelled stays so."""

    code = "follow-up-closed"


async def _sees_case(session: AsyncSession, user: User, case: Case) -> bool:
    as_principal = Principal(
        id=user.id,
        kind=PrincipalKind.user,
        role=Role(user.role),
        organization_id=user.organization_id,
    )
    return bool(
        await session.scalar(
            select(exists().where(col(Case.id) == case.id, full_access(as_principal)))
        )
    )


def check_due(due_at: datetime) -> None:
    if due_at < utcnow() - PAST_DUE_GRACE:
        # A follow-up is a plan: one due already is a slip of the date picker, and would be
        # announced overdue at once and count against the programme's completion.
        raise Unprocessable(
            "A follow-up cannot be due in the past.",
            errors=[{"pointer": "/due_at", "detail": "in the past", "code": "in_the_past"}],
        )


async def owner(session: AsyncSession, user_id: str, case: Case) -> User:
    assignee = await session.get(User, user_id)
    if assignee is None or not assignee.active or not await _sees_case(session, assignee, case):
        raise Unprocessable(
            "The owner must be an active user who can see this case.",
            errors=[
                {"pointer": "/assignee_id", "detail": "no such user, or they cannot see this case"}
            ],
        )
    return assignee


async def replanned(
    session: AsyncSession, fu: FollowUp, case: Case, data: dict[str, Any], *, ending: bool
) -> dict[str, Any]:
    """A new due time or owner for an open follow-up (the patient comes on Monday, not
    Friday; the nurse who was to see her is away): the columns to write. Its reminders are
    sent again for the new time."""
    due_at, new_owner = data.get("due_at"), data.get("assignee_id")
    if due_at is None and new_owner is None:
        return {}
    if fu.status != FollowUpStatus.open:
        raise FollowUpClosed(f"This follow-up is already {fu.status}: it is not planned again.")
    if ending:
        raise Unprocessable(
            "A follow-up is ended or planned again, not both in one change.",
            errors=[{"pointer": "/status", "detail": "given with due_at or assignee_id"}],
        )
    values: dict[str, Any] = {}
    if due_at is not None and due_at != fu.due_at:
        check_due(due_at)
        # Due again at the new time: told when it falls due, and when it is late.
        values |= {"due_at": due_at, "due_notified_at": None, "overdue_notified_at": None}
    if new_owner is not None and new_owner != fu.assignee_id:
        # Handed on: its new owner is told when it falls due (now, if it is due already),
        # and when it is late, as the one before was.
        values |= {
            "assignee_id": (await owner(session, new_owner, case)).id,
            "due_notified_at": None,
            "overdue_notified_at": None,
        }
    return values


async def move(
    session: AsyncSession, fu: FollowUp, before: tuple[datetime, str], by_id: str, now: datetime
) -> FollowUpMove:
    """The move just written, for the case's record and the programme's figures. It is
    `after_due` when the time it had has come and gone, and was still ahead when that time
    was set: "today at 9:00" typed at 9:40 and corrected at once is no late follow-up."""
    # When its time was last set: at planning, or by the last move that gave a new time (a
    # handover keeps the time, and must not make a late one look freshly planned).
    planned_at = await session.scalar(
        select(func.max(col(FollowUpMove.created_at))).where(
            col(FollowUpMove.follow_up_id) == fu.id,
            col(FollowUpMove.due_at) != col(FollowUpMove.from_due_at),
        )
    )
    planned_at = row_ts(planned_at) or fu.created_at
    return FollowUpMove(
        follow_up_id=fu.id,
        by_id=by_id,
        from_due_at=before[0],
        due_at=fu.due_at,
        from_assignee_id=before[1],
        assignee_id=fu.assignee_id,
        after_due=planned_at < before[0] <= now,
        created_at=now,
        updated_at=now,
    )


def said(values: dict[str, Any], before: tuple[datetime, str], fu: FollowUp) -> str:
    """The audit's words for a change: the columns written, and a move from what to what
    (the case record shows the plan as it now stands)."""
    stamps = ("due_notified_at", "overdue_notified_at")  # follow a move; not news of their own
    written = ", ".join(k for k in sorted(values) if k not in (*MOVES, *stamps))
    moves = [
        f"{k}: {b} -> {getattr(fu, k)}" for k, b in zip(MOVES, before, strict=True) if k in values
    ]
    return "; ".join(x for x in (written, *moves) if x)
