"""Demo profiles: every demo specialist verified, with working hours in their own zone."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.principal import Principal, PrincipalKind, Role
from app.specialists import service

# Demo data is written by the system itself, not by any signed-in person.
_DEMO = Principal(id="demo-loader", kind=PrincipalKind.user, role=Role.admin, organization_id=None)

WEEKDAYS_8_TO_20 = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(5)]
SATURDAY_MORNING = [{"weekday": 5, "start": "09:00", "end": "13:00"}]
ROUND_THE_CLOCK = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


async def load(
    session: AsyncSession, orgs: dict[str, Any], specialists: list[tuple[User, dict[str, Any]]]
) -> None:
    for i, (user, sp) in enumerate(specialists):
        emergency = "emergency_medicine" in sp["specialties"]
        await service.put_profile(
            session,
            _DEMO,
            user.id,
            {
                "specialties": sp["specialties"],
                "languages": sp["languages"],
                "timezone": sp["timezone"],
                "availability": ROUND_THE_CLOCK
                if emergency
                else WEEKDAYS_8_TO_20 + (SATURDAY_MORNING if i % 2 == 0 else []),
                "time_off": [],
                "max_active_cases": 4,
                "accepting": True,
                "verified": True,
            },
        )
