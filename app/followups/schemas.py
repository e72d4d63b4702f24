from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.core.schemas import Changes, RequestBody, Rfc3339, Stamped, example

Text4k = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class FollowUpCreate(RequestBody):
    model_config = example(
        {
            "due_at": "2027-03-01T09:00:00Z",
            "description": "Review the rash after two weeks of hydrocortisone.",
            "assignee_id": "usr_01",
        }
    )

    due_at: Rfc3339
    description: Text4k
    assignee_id: str = Field(max_length=40)


class FollowUpClosing(StrEnum):
    done = "done"
    missed = "missed"
    cancelled = "cancelled"


class FollowUpUpdate(Changes):
    """End it (`status`, with what was found in `outcome`), or plan it again while it is
    open (`due_at`, `assignee_id`): not both in one change."""

    model_config = example({"status": "done", "outcome": "Seen on review: the rash has cleared."})

    status: FollowUpClosing | None = None
    outcome: Annotated[str, StringConstraints(max_length=4000)] | None = None
    due_at: Rfc3339 | None = Field(
        default=None, description="A new due time (not in the past); its reminders go again."
    )
    assignee_id: str | None = Field(
        default=None, max_length=40, description="A new owner, who must see the case."
    )


class FollowUpRead(Stamped):
    case_id: str
    due_at: datetime
    description: str
    assignee_id: str
    status: str
    outcome: str | None
    completed_at: datetime | None
    created_by_id: str | None
    overdue: bool
    version: int


class FollowUpListed(FollowUpRead):
    """A follow-up in a list, with its case's question: a list across cases tells its
    patients apart without a read of each case (each an audited access to a record)."""

    case_question: str = Field(description="The question of the follow-up's case.")


class FeedbackCreate(RequestBody):
    model_config = example(
        {"usefulness": 5, "changed_management": True, "comment": "Avoided a referral."}
    )

    usefulness: int = Field(ge=1, le=5, description="How useful the consult was, 1 (not) to 5.")
    changed_management: bool
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = None


class FeedbackRead(Stamped):
    case_id: str
    author_id: str
    usefulness: int
    changed_management: bool
    comment: str | None
    revision: int
    replaced: list[dict[str, Any]]
