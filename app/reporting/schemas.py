from datetime import datetime

from pydantic import BaseModel, Field


class Durations(BaseModel):
    """Minutes, over the cases that reached the step; null when none did."""

    median_minutes: float | None
    p90_minutes: float | None
    count: int = Field(description="How many cases the figures are over.")


class FollowUpCounts(BaseModel):
    due: int = Field(
        description="Fell due (or were closed) in the period: done + missed + "
        "overdue; cancelled ones are left out."
    )
    done: int
    missed: int
    overdue: int = Field(description="Still open after their due time.")
    moved_after_due: int = Field(
        description="Fell due in the period (by the due time they had then) and were given a "
        "new due time afterwards instead of being ended: late by their plan. Their new due "
        "time counts them again, in its own period. Cancelled ones are left out.",
    )


class RoundsFigures(BaseModel):
    occurrences_held: int | None
    local_attendees_per_occurrence: float | None


class QualityFilters(BaseModel):
    organization_id: str | None
    specialty: str | None
    from_: datetime | None = Field(alias="from", serialization_alias="from")
    to: datetime | None

    model_config = {"populate_by_name": True}


class QualityMetrics(BaseModel):
    filters: QualityFilters
    generated_at: datetime
    cases_submitted: int
    time_to_accept: Durations
    time_to_first_response: Durations | None = Field(
        description="To the first message a specialist wrote; null when this deployment has "
        "no message store."
    )
    time_to_signed_note: Durations
    answered_within_sla_rate: float | None
    answered_within_72h_rate: float | None = Field(
        description="Share answered (first consult note signed) within 72 h of submission: "
        "the figure the Swinfen network reports."
    )
    offer_acceptance_rate: float | None
    unmatched: int
    follow_ups: FollowUpCounts
    notes_acknowledged_rate: float | None
    usefulness_mean: float | None
    changed_management_rate: float | None
    rounds: RoundsFigures
