"""What matching does, in the same transaction, when another domain changes a case or a
specialist."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.cases.lifecycle import SPECIALIST_DEACTIVATED, SPECIALIST_ROLE_CHANGED
from app.cases.models import Case
from app.core.principal import Principal, PrincipalKind, Role
from app.events.kinds import USER_DEACTIVATED
from app.events.models import OutboxEvent
from app.events.service import listen
from app.matching import departures, service


@listen("case.cancelled")
async def withdraw_offers_of_cancelled_case(session: AsyncSession, event: OutboxEvent) -> None:
    """Its pending offers go in the cancelling transaction, so no specialist still sees it."""
    case = await session.get(Case, event.resource_id)  # already loaded (and locked) by cancel
    if case is not None:
        await service.withdraw_pending(session, case.id, case.status)


@listen(USER_DEACTIVATED)
async def release_work_of_deactivated_user(session: AsyncSession, event: OutboxEvent) -> None:
    """The cases a deactivated specialist had not answered go back to be matched, and her
    pending offers are withdrawn (app/matching/departures.py); audited as the admin who
    deactivated her. Anyone else (a clinician, say) holds none: nothing changes."""
    p = event.payload
    actor: audit.Actor = audit.SERVICE
    if p.get("actor_id") and p.get("actor_kind") and p.get("actor_role"):
        actor = Principal(
            id=p["actor_id"],
            kind=PrincipalKind(p["actor_kind"]),
            role=Role(p["actor_role"]),
            organization_id=None,
        )
    reason = SPECIALIST_ROLE_CHANGED if p.get("why") == "role_changed" else SPECIALIST_DEACTIVATED
    await departures.release(session, event.resource_id, actor, reason=reason)
