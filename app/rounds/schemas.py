from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

from app.core.schemas import (
    Changes,
    ReadModel,
    RequestBody,
    Rfc3339,
    SecretField,
    ShortText,
    Stamped,
    TimeZoneName,
    example,
)
from app.specialists.vocabulary import SPECIALTY_SCHEMA, is_specialty

LocalWallTime = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"),
    Field(
        description="Wall time in the series' zone, YYYY-MM-DDTHH:MM", examples=["2026-10-06T09:00"]
    ),
]
RuleText = Annotated[
    str,
    StringConstraints(min_length=6, max_length=500),
    Field(
        description="An RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU",
        examples=["FREQ=WEEKLY;BYDAY=TU"],
    ),
]
# Printable ASCII after the scheme: one meaning in every regex engine (a client's and ours).
JoinUrl = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]+$", max_length=1000)]
Duration = Annotated[int, Field(ge=5, le=720, description="Minutes")]


def _check_specialty(v: str) -> str:
    if not is_specialty(v):
        raise ValueError(f"unknown specialty {v!r} (see GET /specialties)")
    return v


Specialty = Annotated[str, AfterValidator(_check_specialty), WithJsonSchema(SPECIALTY_SCHEMA)]
ParticipantRoleName = Literal["local_team", "specialist", "interpreter"]


class RoundCreate(RequestBody):
    model_config = example(
        {
            "title": "Dermatology teaching round",
            "host_organization_id": "org_01",
            "timezone": "America/Argentina/Salta",
            "starts_at_local": "2027-03-02T09:00",
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "specialty": "dermatology",
            "teaching_topic": "Rashes in children",
        }
    )

    title: ShortText
    host_organization_id: str = Field(max_length=40)
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA zone; the host facility's when left out"
    )
    starts_at_local: LocalWallTime
    duration_minutes: Duration = 60
    rrule: RuleText
    specialty: Specialty
    teaching_topic: str = Field(default="", max_length=500)
    join_url: JoinUrl | None = None


class RoundUpdate(Changes):
    model_config = example({"duration_minutes": 90, "teaching_topic": "Rashes in adults"})
    # null takes the join link away; a change from null on applies from now.
    nullable = frozenset({"join_url", "effective_from"})

    title: ShortText | None = None
    timezone: TimeZoneName | None = None
    starts_at_local: LocalWallTime | None = None
    duration_minutes: Duration | None = None
    rrule: RuleText | None = None
    specialty: Specialty | None = None
    teaching_topic: str | None = Field(default=None, max_length=500)
    join_url: JoinUrl | None = None
    effective_from: Rfc3339 | None = Field(
        default=None,
        description="Apply the change to occurrences from this instant on. When occurrences "
        "before it exist, the series ends before it (UNTIL) and a new series "
        "carries on; schedule changes without it take effect from now. The new series may "
        "start earlier on this instant's day (from an occurrence at 18:00, at 17:00 that "
        "day), after the occurrences kept and not in the past; an earlier day is refused. "
        "Nor may it start after occurrences from this instant on that its rule would have "
        "held had it begun sooner (422 occurrences-left-out, naming them in `left_out`): "
        "they would be in neither series. A rule's UNTIL kept from the old schedule ends on "
        "the old last occurrence's day, at the new wall time. When a change saved before "
        "already carries the series on from a later date (`next_series_id`), the new "
        "schedule ends on the last day before that series' first (in the host's zone); one "
        "with no occurrence before then is refused (422 later-series-takes-over).",
    )
    discard_occurrence_changes: bool = Field(
        default=False,
        description="A schedule change keeps each cancelled or moved occurrence on its day "
        "under the new schedule; one whose day the new schedule does not have is refused "
        "(409 occurrence-changes-lost, naming them in `lost`) unless this is true, which "
        "drops them. A moved occurrence keeps the instant it was moved to: a new schedule "
        "with an occurrence of its own starting then is refused whatever this says (409 "
        "occurrence-slot-taken, naming them in `clashes`), as a move onto a taken start is.",
    )


class RoundRead(Stamped):
    title: str
    host_organization_id: str
    # Here because everyone who sees a round meets its host by name, while GET
    # /organizations/{id} shows a clinician or an API client only their own facility.
    host_organization_name: str = Field(description="The host facility's name")
    timezone: str
    starts_at_local: str
    starts_at: datetime
    ends_at: datetime | None
    duration_minutes: int
    rrule: str
    specialty: str
    teaching_topic: str
    join_url: str | None
    created_by_id: str | None
    previous_series_id: str | None
    next_series_id: str | None
    version: int


class OccurrenceRead(ReadModel):
    round_id: str
    start: datetime = Field(description="Start in UTC (after a move)")
    end: datetime
    start_local: str = Field(description="Start in the series' wall time")
    end_local: str
    timezone: str
    original_start: datetime = Field(
        description="The scheduled start in UTC: the occurrence's id (RECURRENCE-ID)"
    )
    cancelled: bool
    moved: bool
    reason: str | None = Field(
        default=None, description="Why it was cancelled or moved, when someone said"
    )


class OccurrenceCancel(RequestBody):
    model_config = example({"reason": "Public holiday."})

    reason: str | None = Field(default=None, max_length=1000)


class OccurrenceMove(RequestBody):
    model_config = example(
        {
            "starts_at_local": "2027-03-03T10:00",
            "reason": "The specialist is travelling on Tuesday.",
        }
    )

    starts_at_local: LocalWallTime
    duration_minutes: Duration | None = None
    reason: str | None = Field(default=None, max_length=1000)


class RoundParticipantCreate(RequestBody):
    model_config = example({"user_id": "usr_02", "role": "specialist"})

    user_id: str = Field(max_length=40)
    role: ParticipantRoleName
    allow_conflict: bool = False


class RoundParticipantRead(ReadModel):
    id: str
    series_id: str
    user_id: str
    # Here because people in a round meet by name, while GET /users/{id} hides other people
    # from specialists and interpreters: whoever may read the list may read these names.
    name: str = Field(description="The participant's display name")
    role: str
    allow_conflict: bool
    added_by_id: str | None
    created_at: datetime


class AgendaCreate(RequestBody):
    model_config = example({"case_id": "cas_01", "presenter_id": "usr_01"})

    case_id: str = Field(max_length=40)
    presenter_id: str = Field(max_length=40)
    position: int | None = Field(default=None, ge=0, le=1000)


class AgendaUpdate(Changes):
    model_config = example({"recommendation": "Patch test at the district hospital."})

    recommendation: str | None = Field(default=None, min_length=1, max_length=8000)
    presenter_id: str | None = Field(default=None, max_length=40)
    position: int | None = Field(default=None, ge=0, le=1000)


class AgendaItemRead(Stamped):
    series_id: str
    occurrence_start: datetime
    case_id: str
    presenter_id: str
    position: int
    recommendation: str | None
    recommended_at: datetime | None
    recommended_by_id: str | None
    added_by_id: str | None
    version: int


class SuggestedAgendaCase(ReadModel):
    case_id: str
    specialty: str
    urgency: str
    status: str
    question: str
    submitted_at: datetime
    waiting_minutes: int


class AttendanceCreate(RequestBody):
    model_config = example({"user_id": "usr_02", "attended": True})

    user_id: str = Field(max_length=40)
    attended: bool


class AttendanceRead(Stamped):
    series_id: str
    occurrence_start: datetime
    user_id: str
    attended: bool
    local: bool
    recorded_by_id: str | None


class CalendarTokenRead(ReadModel):
    feed_token: str = SecretField("Shown once; the old token stops working")
    feed_path: str = SecretField("Path of the feed under the API base (it holds the token)")
