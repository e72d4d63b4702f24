"""A case's candidates as the API shows them: the ranking, each score with its parts, the
offer each candidate already has, and (on request) who was excluded and why."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.models import Case, Offer
from app.core.errors import Forbidden
from app.core.principal import Principal, Role, Scope
from app.matching import scoring
from app.matching.ranking import Candidate, rank


def may_see_candidates(p: Principal, case_row: Case) -> bool:
    """Staff, and the case's own facility: its clinicians and its apps with cases:read."""
    if p.is_staff:
        return True
    own_facility = p.organization_id == case_row.organization_id
    if p.is_client:
        return own_facility and p.has_scope(Scope.cases_read)
    return p.role is Role.clinician and own_facility


async def candidates(
    session: AsyncSession,
    p: Principal,
    case_row: Case,
    *,
    limit: int,
    explain: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    if not may_see_candidates(p, case_row):
        raise Forbidden("Only coordinators and the case's own facility see its candidates.")
    ranking = await rank(session, case_row, limit=limit, explain=explain, now=now)
    rows = await session.execute(
        select(col(Offer.specialist_id), col(Offer.status))
        .where(col(Offer.case_id) == case_row.id)
        .order_by(col(Offer.created_at), col(Offer.id))
    )
    # Each specialist's last offer: one that expired may have been followed by another.
    offered: dict[str, str] = {sid: status for sid, status in rows.tuples()}
    await audit.append(session, p, "case.candidates", "case", case_row.id)
    return {
        "case_id": case_row.id,
        "specialty": case_row.specialty,
        "weights": dict(scoring.WEIGHTS),
        "items": [_candidate(c, offered.get(c.specialist_id)) for c in ranking.candidates],
        "excluded": [
            {"specialist_id": e.specialist_id, "name": e.name, "reasons": e.reasons}
            for e in ranking.excluded
        ]
        if explain
        else None,
        "excluded_total": ranking.excluded_total if explain else None,
    }


def _candidate(c: Candidate, offer_status: str | None) -> dict[str, Any]:
    f = c.features
    return {
        "specialist_id": c.specialist_id,
        "name": c.name,
        "timezone": c.timezone,
        "score": round(c.score, 4),
        "parts": {"specialty": 1.0, **{k: round(v, 4) for k, v in c.parts.items()}},
        "interpreter_needed": c.interpreter_needed,
        "available_now": f.minutes_to_window == 0,
        "next_window_in_minutes": f.minutes_to_window,
        "active_cases": f.active_cases,
        "max_active_cases": f.max_active_cases,
        "offer_status": offer_status,
    }
