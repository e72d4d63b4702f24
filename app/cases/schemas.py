"""Request and response models for cases, their participants and attachments.

A case is read in one of two shapes, told apart by `view`:
- `full` (CaseRead): everything, for the facility, staff, the assigned specialist and
  participants;
- `summary` (CaseSummary): what a specialist needs to decide on an offer, without the
  patient reference, the link to earlier cases or the attachments.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, WithJsonSchema

from app.cases.models import Urgency
from app.core.pagination import Page
from app.core.schemas import LanguageTag, ReadModel, RequestBody, Stamped, example
from app.specialists.vocabulary import SPECIALTIES, SPECIALTY_SCHEMA


def _check_specialty(v: str) -> str:
    if v not in SPECIALTIES:
        raise ValueError(f"unknown specialty {v!r}; the codes are listed at GET /specialties")
    return v


SpecialtyCode = Annotated[
    str,
    StringConstraints(max_length=60),
    AfterValidator(_check_specialty),
    WithJsonSchema(SPECIALTY_SCHEMA),
]
Sex = Literal["female", "male", "other", "unknown"]
PatientReference = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class PatientIn(RequestBody):
    """The patient, by the facility's own reference: never a name."""

    reference: PatientReference = Field(
        description="The facility's local reference (record number); no names.",
        examples=["MRN-004211"],
    )
    age_years: float | None = Field(
        default=None, ge=0, le=130, description="Age in years; fractions for infants."
    )
    sex: Sex | None = None


class ConsentIn(RequestBody):
    obtained: bool = Field(description="Must be true: a case without consent is refused.")
    method: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="How consent was obtained (verbal, written, guardian, ...).",
        examples=["verbal"],
    )


# How many languages a case names (the console's form checks it too).
MAX_CASE_LANGUAGES = 10


class CaseCreate(RequestBody):
    model_config = example(
        {
            "specialty": "dermatology",
            "urgency": "routine",
            "question": "Spreading itchy rash on both forearms for three weeks: contact "
            "dermatitis or scabies?",
            "summary": "No fever. Started after a new soap. Family members unaffected.",
            "patient": {"reference": "MRN-004211", "age_years": 34, "sex": "female"},
            "languages": ["es", "qu"],
            "interpreter_needed": False,
            "consent": {"obtained": True, "method": "verbal"},
            "organization_id": "org_01",
        }
    )

    specialty: SpecialtyCode = Field(
        description="A code from GET /specialties.", examples=["dermatology"]
    )
    urgency: Urgency
    question: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="What the clinician asks the specialist."
    )
    summary: Annotated[str, StringConstraints(max_length=20000)] = Field(
        default="", description="History, examination, investigations."
    )
    patient: PatientIn
    languages: list[LanguageTag] = Field(
        default_factory=list,
        max_length=MAX_CASE_LANGUAGES,
        description="Languages the clinician and patient speak.",
    )
    interpreter_needed: bool = False
    consent: ConsentIn
    follow_up_of: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None, description="An earlier case of the same facility and the same patient."
    )
    organization_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None,
        description="The facility the case is for. Coordinators and admins submitting on a "
        "facility's behalf must give it; for clinicians and API clients it is "
        "their own facility.",
    )


class CaseCancel(RequestBody):
    model_config = example({"reason": "The patient was referred to the district hospital."})

    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None


class CaseClose(RequestBody):
    model_config = example({"outcome": "Rash cleared after stopping the soap; no further action."})

    outcome: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="What happened to the patient after the advice."
    )


class ParticipantCreate(RequestBody):
    model_config = example({"user_id": "usr_01", "role": "interpreter"})

    user_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    role: Literal["interpreter", "specialist"] = Field(
        description="`interpreter`, or `specialist` for a second specialist."
    )


class PatientRead(BaseModel):
    reference: str
    age_years: float | None
    sex: str | None


class PatientSummary(BaseModel):
    """The patient without the reference that could identify them."""

    age_years: float | None
    sex: str | None


class ConsentRead(BaseModel):
    obtained: bool
    method: str


class _CaseCommon(Stamped):
    organization_id: str
    specialty: str
    urgency: Urgency
    question: str
    summary: str
    languages: list[str]
    interpreter_needed: bool
    status: str
    respond_by: datetime
    overdue: bool = Field(
        default=False, description="respond_by passed with no signed note (set once, kept)."
    )


class CaseRead(_CaseCommon):
    """The whole case."""

    view: Literal["full"] = "full"
    patient: PatientRead
    consent: ConsentRead
    follow_up_of: str | None
    submitted_by_id: str | None
    submitted_by_client_id: str | None
    assigned_specialist_id: str | None
    assigned_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    outcome: str | None
    cancel_reason: str | None
    version: int


class CaseSummary(_CaseCommon):
    """What a specialist holding a pending offer sees: no patient reference, no attachments."""

    view: Literal["summary"] = "summary"
    patient: PatientSummary


CaseView = Annotated[CaseRead | CaseSummary, Field(discriminator="view")]


class CasePage(Page[CaseView]):
    """A page of cases, each in the view its reader may see (one name in the schema)."""


class ParticipantRead(ReadModel):
    id: str
    case_id: str
    user_id: str
    role: str
    added_by_id: str | None
    created_at: datetime


class AttachmentRead(Stamped):
    case_id: str
    filename: str
    content_type: str = Field(description="Detected from the bytes, not the name.")
    size_bytes: int
    sha256: str
    description: str | None
    uploaded_by_id: str | None
    content_url: str
