from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.core.schemas import Changes, ReadModel, RequestBody, Stamped, example
from app.notes.models import NoteKind

LongText = Annotated[str, StringConstraints(max_length=20000)]
MidText = Annotated[str, StringConstraints(max_length=10000)]


class NoteCreate(RequestBody):
    model_config = example(
        {
            "kind": "consult",
            "assessment": "Likely irritant contact dermatitis.",
            "recommendations": "Stop the new soap; hydrocortisone 1% twice daily for 7 days.",
            "red_flags": "Fever, blistering or spread to the face: refer.",
        }
    )

    kind: NoteKind
    assessment: LongText = ""
    recommendations: LongText = ""
    follow_up_plan: MidText = ""
    red_flags: MidText = ""
    referral_advice: MidText = ""
    amends_id: str | None = None


# Each text field's longest, as the note page checks it while she writes (app/console).
NOTE_TEXT_LIMITS: dict[str, int] = {
    name: next(m.max_length for m in NoteCreate.model_fields[name].metadata)
    for name in ("assessment", "recommendations", "follow_up_plan", "red_flags", "referral_advice")
}


class NoteUpdate(Changes):
    model_config = example(
        {"recommendations": "Stop the new soap; hydrocortisone 1% twice daily for 10 days."}
    )

    assessment: LongText | None = None
    recommendations: LongText | None = None
    follow_up_plan: MidText | None = None
    red_flags: MidText | None = None
    referral_advice: MidText | None = None


class NoteRead(Stamped):
    case_id: str
    kind: str
    status: str
    author_id: str
    amends_id: str | None
    assessment: str
    recommendations: str
    follow_up_plan: str
    red_flags: str
    referral_advice: str
    version: int
    signed_at: datetime | None
    signed_by_id: str | None
    acknowledged_at: datetime | None
    acknowledged_by_id: str | None


class NoteVersionRead(ReadModel):
    id: str
    note_id: str
    version: int
    status: str
    author_id: str
    assessment: str
    recommendations: str
    follow_up_plan: str
    red_flags: str
    referral_advice: str
    created_at: datetime
