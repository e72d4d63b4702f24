"""Demo care after a consult: a case Artibonite's clinician sent four days ago, which a
specialist answered with a signed consult note, and the follow-ups it planned (one late,
one coming). Without it `make run` showed a new user no note to read and acknowledge and an
empty Follow-ups page, the part of the programme that carries care on after the call."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.cases.models import Case, CaseStatus
from app.core.clock import utcnow
from app.followups.models import FollowUp
from app.notes.models import Note, NoteKind, NoteStatus, NoteVersion
from app.organizations.models import Organization

NOTE = {
    "assessment": "Likely pre-eclampsia without severe features at 34 weeks: BP 150/95 twice, "
    "proteinuria 2+ on dipstick, no headache, no visual change.",
    "recommendations": "Keep her at the centre. Nifedipine 10 mg by mouth if BP stays at or "
    "above 160/110. Check BP every 4 h and urine protein daily with the dipsticks you have.",
    "follow_up_plan": "BP and symptoms reviewed by the local team in 2 days; a second check "
    "in a week. Refer for delivery at 37 weeks, or at once if any red flag appears.",
    "red_flags": "Severe headache, blurred vision, epigastric pain, BP at or above 160/110, "
    "fits: magnesium sulphate and transfer to Gonaïves hospital at once.",
    "referral_advice": "Transfer by the ambulance of the commune; call ahead to the "
    "maternity ward.",
}


async def load(
    session: AsyncSession,
    orgs: dict[str, Organization],
    specialists: list[tuple[User, dict[str, Any]]],
) -> None:
    now = utcnow()
    org = orgs["gonaives"]
    clinician = await session.scalar(
        select(User).where(col(User.email) == "clinician.gonaives@demo.org")
    )
    specialist = next(u for u, sp in specialists if "obstetrics_gynecology" in sp["specialties"])
    assert clinician is not None
    sent = now - timedelta(days=4)
    case = Case(
        organization_id=org.id,
        submitted_by_id=clinician.id,
        specialty="obstetrics_gynecology",
        urgency="urgent",
        question="Raised blood pressure and protein in urine at 34 weeks; keep her here or "
        "transfer now?",
        summary="G2P1, 34 weeks. BP 150/95 twice, 4 h apart. Dipstick protein 2+. No "
        "headache, no visual change, no epigastric pain. Nifedipine on hand; no lab for "
        "platelets or liver tests.",
        patient_reference="CSA-1187",
        patient_age_years=27,
        patient_sex="female",
        languages=["fr", "ht"],
        interpreter_needed=False,
        consent_method="verbal",
        respond_by=sent + timedelta(hours=24),
        status=CaseStatus.answered.value,
        assigned_specialist_id=specialist.id,
        assigned_at=sent + timedelta(hours=1),
        answered_at=sent + timedelta(hours=3),
        created_at=sent,
        updated_at=sent + timedelta(hours=3),
    )
    session.add(case)
    await session.flush()
    signed = sent + timedelta(hours=3)
    note = Note.model_validate(
        {
            **NOTE,
            "case_id": case.id,
            "kind": NoteKind.consult.value,
            "status": NoteStatus.signed.value,
            "author_id": specialist.id,
            "version": 2,
            "signed_at": signed,
            "signed_by_id": specialist.id,
            "created_at": signed - timedelta(minutes=40),
            "updated_at": signed,
        }
    )
    session.add(note)
    await session.flush()
    # Its history as the API keeps it: the draft she wrote, then the version she signed.
    for version, status, at in (
        (1, NoteStatus.draft, note.created_at),
        (2, NoteStatus.signed, signed),
    ):
        session.add(
            NoteVersion.model_validate(
                {
                    **NOTE,
                    "note_id": note.id,
                    "version": version,
                    "status": status.value,
                    "author_id": specialist.id,
                    "created_at": at,
                }
            )
        )
    # One the local team has let pass its day, one still ahead: both lists of the page.
    for due, description in (
        (sent + timedelta(days=2), "Blood pressure, urine protein and symptoms reviewed."),
        (
            sent + timedelta(days=7),
            "Second check: BP, protein, fetal movements; plan the "
            "transfer for delivery at 37 weeks.",
        ),
    ):
        session.add(
            FollowUp(
                case_id=case.id,
                organization_id=org.id,
                specialty=case.specialty,
                due_at=due,
                description=description,
                assignee_id=clinician.id,
                created_by_id=specialist.id,
                created_at=signed,
                updated_at=signed,
            )
        )
    await session.flush()
