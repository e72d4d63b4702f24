"""Follow-up tasks on a case, and the referring clinicians' feedback."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from app.core.clock import utcnow
from app.core.db import Timestamped, json_field, new_id, ts_field


class FollowUpStatus(StrEnum):
    open = "open"
    done = "done"
    missed = "missed"
    cancelled = "cancelled"


class FollowUp(Timestamped, table=True):
    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_case_id", "case_id"),
        Index("ix_follow_up_status_due", "status", "due_at"),
        Index("ix_follow_up_assignee", "assignee_id", "status"),
        # The measures count one facility's (or specialty's) follow-ups by status and due time.
        Index("ix_follow_up_org_status_due", "organization_id", "status", "due_at"),
        Index("ix_follow_up_org_id", "organization_id", "id"),
        Index("ix_follow_up_specialty_status_due", "specialty", "status", "due_at"),
    )

    id: str = Field(default_factory=lambda: new_id("fu"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", max_length=40)
    # Copied from the case (neither changes after intake) so counts need no join.
    organization_id: str = Field(max_length=40)
    specialty: str = Field(max_length=60)
    due_at: datetime = ts_field()
    description: str = Field(max_length=4000)
    assignee_id: str = Field(foreign_key="user.id", max_length=40)
    status: str = Field(default=FollowUpStatus.open.value, max_length=10)
    outcome: str | None = Field(default=None, max_length=4000)
    completed_at: datetime | None = ts_field(default=None)
    created_by_id: str | None = Field(default=None, max_length=40)
    # Set once the owner was told it fell due, so the reminder goes out once.
    due_notified_at: datetime | None = ts_field(default=None)
    # Set once the owner was told it is overdue (FOLLOWUP_OVERDUE_HOURS past due, open).
    overdue_notified_at: datetime | None = ts_field(default=None)
    version: int = 1

    @property
    def overdue(self) -> bool:
        return is_overdue(self.status, self.due_at)


class FollowUpMove(Timestamped, table=True):
    """A follow-up planned again: from which time and owner to which, by whom. Kept so the
    case's record tells the plan's story (not only how it stands), and so the programme's
    figures still see a follow-up that was moved once it had fallen due."""

    __tablename__ = "follow_up_move"
    __table_args__ = (
        Index("ix_follow_up_move_follow_up", "follow_up_id", "created_at"),
        # The measures count the late ones by the due time they had, in a period.
        Index("ix_follow_up_move_late", "after_due", "from_due_at"),
    )

    id: str = Field(default_factory=lambda: new_id("fum"), primary_key=True, max_length=40)
    follow_up_id: str = Field(foreign_key="follow_up.id", max_length=40)
    by_id: str = Field(max_length=40)
    from_due_at: datetime = ts_field()
    due_at: datetime = ts_field()
    from_assignee_id: str = Field(max_length=40)
    assignee_id: str = Field(max_length=40)
    # Moved when it had already fallen due: late by the plan it had.
    after_due: bool = False


def is_overdue(status: str, due_at: datetime) -> bool:
    """Still open after its due time."""
    return status == FollowUpStatus.open and due_at <= utcnow()


class Feedback(Timestamped, table=True):
    """One clinician's view of one consult; a second answer replaces the first."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("case_id", "author_id", name="uq_feedback_case_author"),)

    id: str = Field(default_factory=lambda: new_id("fb"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=40)
    # A clinician, or the facility's API client answering on a clinician's behalf.
    author_id: str = Field(max_length=40)
    usefulness: int
    changed_management: bool
    comment: str | None = Field(default=None, max_length=4000)
    revision: int = 1
    # Earlier answers this one replaced, oldest first: [{usefulness, changed_management,
    # comment, answered_at}].
    replaced: list[dict[str, Any]] = json_field()
