from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.core.schemas import ReadModel, RequestBody, Stamped, example


class OfferCreate(RequestBody):
    """Either `{"auto": true, "count": 3}` (the top of the ranking) or
    `{"specialist_ids": [...]}` (a coordinator's choice)."""

    model_config = example({"specialist_ids": ["usr_02", "usr_03"]})

    auto: bool = False
    count: int = Field(default=3, ge=1, le=20)
    specialist_ids: list[str] | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one_mode(self) -> "OfferCreate":
        if self.auto == bool(self.specialist_ids):
            raise ValueError('send either "auto": true or a list of "specialist_ids"')
        return self


class OfferDecline(RequestBody):
    model_config = example({"reason": "On leave until Monday."})

    reason: str | None = Field(default=None, max_length=1000)


class OfferCase(BaseModel):
    id: str
    organization_id: str = Field(description="The facility that asks.")
    specialty: str
    urgency: str
    respond_by: datetime
    status: str


class OfferRead(Stamped):
    case_id: str
    specialist_id: str
    status: str
    rank: int
    score: float
    score_parts: dict[str, Any]
    interpreter_needed: bool
    offered_by_id: str | None
    expires_at: datetime
    responded_at: datetime | None
    decline_reason: str | None
    case: OfferCase | None = None


class OfferBatch(BaseModel):
    case_id: str
    case_status: str
    items: list[OfferRead]


class CandidateRead(ReadModel):
    specialist_id: str
    name: str
    timezone: str
    score: float = Field(description="Weighted mean of the parts, 0..1")
    parts: dict[str, float]
    interpreter_needed: bool
    available_now: bool
    next_window_in_minutes: int | None
    active_cases: int
    max_active_cases: int
    offer_status: str | None = Field(
        description="This specialist's latest offer of the case, if any (a coordinator may offer "
        "it again to someone whose offer expired)"
    )


class ExcludedRead(BaseModel):
    specialist_id: str
    name: str
    reasons: list[str]


class CandidateList(BaseModel):
    case_id: str
    specialty: str
    weights: dict[str, float]
    items: list[CandidateRead]
    excluded: list[ExcludedRead] | None = Field(
        default=None,
        description="With ?explain=true: specialists of the specialty left out, "
        "and why (at most 100)",
    )
    excluded_total: int | None = None
