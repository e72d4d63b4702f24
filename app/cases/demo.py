"""Demo cases: a few open consult requests, so `make run` has something to triage."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.cases import service
from app.cases.models import Case
from app.core.config import get_settings
from app.core.db import utcnow
from app.organizations.models import Organization

CASES = [
    {
        "org": "salta",
        "specialty": "dermatology",
        "urgency": "routine",
        "question": "Annular scaly plaques on both forearms for 3 weeks; tinea or psoriasis? "
        "What can we treat with here?",
        "summary": "Shepherd, works outdoors at 3,800 m. Itchy, spreading. No fever. "
        "Clotrimazole cream 10 days without change. No KOH microscopy on site.",
        "patient_reference": "HSR-2291",
        "patient_age_years": 41,
        "patient_sex": "male",
        "languages": ["es", "qu"],
        "interpreter_needed": True,
    },
    {
        "org": "kisumu",
        "specialty": "pediatrics",
        "urgency": "urgent",
        "question": "Child with severe anaemia after treated malaria; transfuse now or refer?",
        "summary": "Hb 5.8 g/dL, RDT positive 4 days ago, completed artemether-lumefantrine. "
        "Tachycardic, no respiratory distress. Nearest blood bank 3 h away.",
        "patient_reference": "LMH-0412",
        "patient_age_years": 3,
        "patient_sex": "female",
        "languages": ["sw", "en"],
        "interpreter_needed": False,
    },
    {
        "org": "jumla",
        "specialty": "internal_medicine",
        "urgency": "routine",
        "question": "Single-lead ECG attached in clinic notes shows irregular rhythm; "
        "anticoagulate?",
        "summary": "68-year-old with palpitations for 2 months, BP 150/90, no prior stroke. "
        "Aspirin available; warfarin without INR monitoring.",
        "patient_reference": "KHC-7781",
        "patient_age_years": 68,
        "patient_sex": "female",
        "languages": ["ne"],
        "interpreter_needed": False,
    },
]


async def load(
    session: AsyncSession,
    orgs: dict[str, Organization],
    specialists: list[tuple[User, dict[str, Any]]],
) -> None:
    minutes = get_settings().respond_by_minutes
    for spec in CASES:
        org = orgs[str(spec["org"])]
        clinician = await session.scalar(
            select(User).where(col(User.email) == f"clinician.{spec['org']}@demo.org")
        )
        data = {k: v for k, v in spec.items() if k != "org"}
        case = Case.model_validate(
            {
                **data,
                "organization_id": org.id,
                "submitted_by_id": clinician.id if clinician else None,
                "consent_method": "verbal",
                "respond_by": utcnow() + timedelta(minutes=minutes[str(spec["urgency"])]),
            }
        )
        session.add(case)
        await session.flush()
        await service.emit_submitted(session, case)
