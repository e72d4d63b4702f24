"""What follow-up adds to a case's record: follow-ups, their outcomes, and feedback."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case
from app.followups.models import Feedback, FollowUp, FollowUpMove


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # Each time one was planned again, from what to what: the plan's story, not only how it
    # stands (a follow-up moved once it was due is late by the plan it had).
    moves = (
        await session.scalars(
            select(FollowUpMove)
            .join(FollowUp, col(FollowUp.id) == col(FollowUpMove.follow_up_id))
            .where(col(FollowUp.case_id) == case.id)
            .order_by(col(FollowUpMove.created_at), col(FollowUpMove.id))
        )
    ).all()
    first_moves: dict[str, FollowUpMove] = {}
    for mv in moves:
        first_moves.setdefault(mv.follow_up_id, mv)
    for fu in (
        await session.scalars(
            select(FollowUp)
            .where(col(FollowUp.case_id) == case.id)
            .order_by(col(FollowUp.created_at), col(FollowUp.id))
        )
    ).all():
        # As it was planned then; its moves follow as entries of their own.
        first = first_moves.get(fu.id)
        out.append(
            {
                "at": fu.created_at,
                "type": "follow_up",
                "id": fu.id,
                "due_at": first.from_due_at if first else fu.due_at,
                "description": fu.description,
                "assignee_id": first.from_assignee_id if first else fu.assignee_id,
                "created_by_id": fu.created_by_id,
            }
        )
        if fu.completed_at:
            out.append(
                {
                    "at": fu.completed_at,
                    "type": "follow_up_outcome",
                    "id": fu.id,
                    "status": fu.status,
                    "outcome": fu.outcome,
                }
            )
    out.extend(
        {
            "at": mv.created_at,
            "type": "follow_up_moved",
            "id": mv.follow_up_id,
            "by_id": mv.by_id,
            "from_due_at": mv.from_due_at,
            "due_at": mv.due_at,
            "from_assignee_id": mv.from_assignee_id,
            "assignee_id": mv.assignee_id,
            "after_due": mv.after_due,
        }
        for mv in moves
    )
    for fb in (
        await session.scalars(
            select(Feedback)
            .where(col(Feedback.case_id) == case.id)
            .order_by(col(Feedback.updated_at), col(Feedback.id))
        )
    ).all():
        out.append(
            {
                "at": fb.updated_at,
                "type": "feedback",
                "id": fb.id,
                "author_id": fb.author_id,
                "usefulness": fb.usefulness,
                "changed_management": fb.changed_management,
                "comment": fb.comment,
                "revision": fb.revision,
                "replaces_earlier": fb.revision > 1,
            }
        )
    return out
