"""Specialist test data: a user with a profile written through the profile service."""

from typing import Any

from app.auth.models import User
from app.core.db import sessionmaker
from app.core.principal import Principal, Role
from app.specialists import service
from tests.factories import Factory

ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
SYSTEM = Principal(id="system", kind="user", role=Role.admin, organization_id=None)


async def make_specialist(
    f: Factory,
    *,
    specialties: list[str] | None = None,
    languages: list[str] | None = None,
    timezone: str = "UTC",
    availability: list[dict[str, Any]] | None = None,
    time_off: list[dict[str, Any]] | None = None,
    max_active_cases: int = 3,
    accepting: bool = True,
    verified: bool = True,
    **user_kw: Any,
) -> User:
    user = await f.make_user(Role.specialist, **user_kw)
    async with sessionmaker()() as s:
        await service.put_profile(
            s,
            SYSTEM,
            user.id,
            {
                "specialties": specialties or ["dermatology"],
                "languages": languages or ["en"],
                "timezone": timezone,
                "availability": ALL_WEEK if availability is None else availability,
                "time_off": time_off or [],
                "max_active_cases": max_active_cases,
                "accepting": accepting,
                "verified": verified,
            },
        )
        await s.commit()
    return user


def profile_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specialties": ["dermatology"],
        "languages": ["es", "en"],
        "timezone": "Europe/Madrid",
        "availability": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
        "time_off": [],
        "max_active_cases": 3,
        "accepting": True,
    }
    body.update(overrides)
    return body
