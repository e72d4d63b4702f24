"""When someone stops being able to do the work she held: she is deactivated, or a
specialist's role is changed (an admin makes her a coordinator, say). The domains that hold
her work hear of it in the same transaction, through an internal event, so auth imports
none of them (matching gives back the cases a specialist had not answered and withdraws
her offers: app/matching/departures.py). Reactivating her, or making her a specialist
again, gives nothing back."""

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.principal import Principal
from app.events import service as events
from app.events.kinds import USER_DEACTIVATED

Why = Literal["deactivated", "role_changed"]


async def work_released(
    session: AsyncSession, actor: Principal, user: User, why: Why, role_before: str
) -> None:
    await events.emit(
        session,
        USER_DEACTIVATED,
        "user",
        user.id,
        payload={
            "user_id": user.id,
            "role": role_before,
            "why": why,
            "actor_id": actor.id,
            "actor_kind": actor.kind.value,
            "actor_role": actor.role.value,
        },
    )
