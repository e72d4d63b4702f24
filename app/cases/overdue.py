"""A case past its respond_by with no signed note is marked overdue, once.

Kept apart from the lifecycle: overdue is not a status (an assigned case can be overdue)
and it never goes back. The escalation pass (app.notifications.escalation) calls this at
the deadline; `case.overdue` then reaches the coordinators, partners' webhooks and the
case's record.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.cases.lifecycle import audience
from app.cases.models import Case, CaseStatus
from app.core.clock import utcnow
from app.events.service import emit

# A signed note (answered), or a case that ended, can no longer miss its deadline.
CAN_BE_OVERDUE = (
    CaseStatus.submitted,
    CaseStatus.offered,
    CaseStatus.assigned,
    CaseStatus.unmatched,
)


async def mark_overdue(session: AsyncSession, case: Case) -> bool:
    """Mark the (locked) case overdue if its deadline passed without a signed note; True
    when this call marked it. Announced once: a case already marked is left alone."""
    now = utcnow()
    if case.overdue or case.respond_by > now or case.status not in CAN_BE_OVERDUE:
        return False
    case.overdue = True
    case.updated_at = now
    case.version += 1
    await emit(
        session,
        "case.overdue",
        "case",
        case.id,
        organization_id=case.organization_id,
        audience=audience(case),
        payload={
            "case_id": case.id,
            "status": case.status,
            "urgency": case.urgency,
            "specialty": case.specialty,
            "respond_by": case.respond_by.isoformat(),
        },
    )
    await audit.append(session, audit.SERVICE, "case.overdue", "case", case.id)
    return True
