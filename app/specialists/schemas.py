from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.core.schemas import LanguageTag, ReadModel, RequestBody, Rfc3339, TimeZoneName, example
from app.specialists.availability import hhmm_to_minutes
from app.specialists.vocabulary import SPECIALTY_SCHEMA, is_specialty


def _check_specialty(v: str) -> str:
    if not is_specialty(v):
        raise ValueError(f"unknown specialty {v!r}; the codes are listed at GET /specialties")
    return v


SpecialtyCode = Annotated[
    str,
    Field(max_length=60),
    AfterValidator(_check_specialty),
    WithJsonSchema(SPECIALTY_SCHEMA),
]
HHMM = Annotated[
    str,
    Field(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="Local wall time HH:MM (24:00 ends a day)",
    ),
]


class Window(RequestBody):
    """A weekly window in the specialist's own time zone; 0 is Monday."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if hhmm_to_minutes(self.end) <= hhmm_to_minutes(self.start):
            raise PydanticCustomError(
                "end_before_start",
                "end must be after start; split a window that crosses "
                "midnight into two (…-24:00 and 00:00-…)",
            )
        return self


class TimeOff(RequestBody):
    """Dates are whole days in the specialist's zone (end day included); times need an offset."""

    start: date | Rfc3339
    end: date | Rfc3339


class ProfileWrite(RequestBody):
    model_config = example(
        {
            "specialties": ["dermatology"],
            "languages": ["en", "es"],
            "timezone": "Europe/Madrid",
            "availability": [{"weekday": 1, "start": "09:00", "end": "13:00"}],
            "time_off": [{"start": "2027-08-02", "end": "2027-08-13"}],
            "max_active_cases": 5,
            "accepting": True,
        }
    )

    specialties: list[SpecialtyCode] = Field(min_length=1, max_length=10)
    languages: list[LanguageTag] = Field(min_length=1, max_length=20)
    timezone: TimeZoneName
    availability: list[Window] = Field(default_factory=list, max_length=70)
    time_off: list[TimeOff] = Field(default_factory=list, max_length=100)
    max_active_cases: int = Field(default=3, ge=1, le=100)
    accepting: bool = True
    verified: bool | None = Field(
        default=None, description="Only a coordinator (or admin) may change it; omit to keep."
    )


class TimeOffRead(BaseModel):
    start: datetime
    end: datetime


class SpecialistRead(ReadModel):
    id: str
    name: str
    active: bool
    specialties: list[str]
    languages: list[str]
    timezone: str
    availability: list[dict[str, Any]]
    time_off: list[TimeOffRead]
    max_active_cases: int
    active_cases: int
    accepting: bool
    verified: bool
    next_window_start: datetime | None = Field(
        description="When they are next inside one of their weekly windows (their own zone) "
        "and not on time off, in UTC to the minute: the current minute when they are now; "
        "null without windows. Accepting and capacity are not counted (see `accepting`, "
        "`active_cases`, and GET /specialists/on-duty)."
    )
    created_at: datetime
    updated_at: datetime


class Specialty(BaseModel):
    code: str
    name: str
    ready_specialists: int = Field(
        description="Specialists on its roster: verified, accepting cases, active. 0: nobody "
        "takes its cases yet, and a case in it waits, unmatched, for the coordinators to find "
        "someone. (One on the roster may still be away or full when a case comes.)"
    )
