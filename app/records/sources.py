"""The case's own part of its record: intake, offers, assignment, becoming unmatched, the
people added, closing.

Kept here rather than in app/cases so the record can grow without touching the cases domain;
it reads the case, offer and participant tables, and the case's `case.unmatched` events (the
case keeps no stamp of that step, which can happen more than once)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case, CaseParticipant, Offer, OfferStatus
from app.events.models import OutboxEvent


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "at": case.created_at,
            "type": "intake",
            "id": case.id,
            "submitted_by_id": case.submitted_by_id or case.submitted_by_client_id,
            "specialty": case.specialty,
            "urgency": case.urgency,
            "question": case.question,
            "summary": case.summary,
            "patient": {
                "reference": case.patient_reference,
                "age_years": case.patient_age_years,
                "sex": case.patient_sex,
            },
            "languages": case.languages,
            "interpreter_needed": case.interpreter_needed,
            "respond_by": case.respond_by,
            "follow_up_of": case.follow_up_of_id,
        }
    ]
    offers = (
        await session.scalars(
            select(Offer)
            .where(col(Offer.case_id) == case.id)
            .order_by(col(Offer.created_at), col(Offer.id))
        )
    ).all()
    for o in offers:
        out.append(
            {
                "at": o.created_at,
                "type": "offer",
                "id": o.id,
                "specialist_id": o.specialist_id,
                "rank": o.rank,
                "automatic": o.offered_by_id is None,
                "expires_at": o.expires_at,
            }
        )
        if o.status != OfferStatus.pending:  # withdrawn too: why a specialist was not asked again
            out.append(
                {
                    "at": o.responded_at or o.updated_at,
                    "type": f"offer_{o.status}",
                    "id": o.id,
                    "specialist_id": o.specialist_id,
                    "reason": o.decline_reason,
                }
            )
    # Nobody was left to offer it to: each time, from the event the lifecycle wrote with it.
    # (A case taken back from its specialist is matching's own entry, `unassigned`.)
    unmatched = (
        await session.execute(
            select(col(OutboxEvent.created_at), col(OutboxEvent.payload))
            .where(
                col(OutboxEvent.resource_id) == case.id,
                col(OutboxEvent.resource_type) == "case",
                col(OutboxEvent.type) == "case.unmatched",
            )
            .order_by(col(OutboxEvent.id))
        )
    ).all()
    out.extend(
        {"at": at, "type": "unmatched", "id": case.id}
        for at, payload in unmatched
        if (payload or {}).get("previous_status") != "assigned"
    )
    if case.assigned_at and case.assigned_specialist_id:
        out.append(
            {
                "at": case.assigned_at,
                "type": "assignment",
                "id": case.id,
                "specialist_id": case.assigned_specialist_id,
            }
        )
    people = (
        await session.scalars(
            select(CaseParticipant)
            .where(col(CaseParticipant.case_id) == case.id)
            .order_by(col(CaseParticipant.created_at), col(CaseParticipant.id))
        )
    ).all()
    out.extend(
        {
            "at": cp.created_at,
            "type": "participant",
            "id": cp.id,
            "user_id": cp.user_id,
            "role": cp.role,
            "added_by_id": cp.added_by_id,
        }
        for cp in people
    )
    if case.cancelled_at:
        out.append(
            {
                "at": case.cancelled_at,
                "type": "cancelled",
                "id": case.id,
                "reason": getattr(case, "cancel_reason", None),
            }
        )
    if case.closed_at:
        out.append({"at": case.closed_at, "type": "closed", "id": case.id, "outcome": case.outcome})
    return out
