"""Round test data: a series written as the service would write it."""

from typing import Any

from app.core.db import sessionmaker
from app.rounds.models import RoundParticipant, RoundSeries
from app.rounds.schedule import Schedule

API = "/api/v1"


async def make_round(organization_id: str, **overrides: Any) -> RoundSeries:
    data: dict[str, Any] = {
        "title": "Dermatology rounds",
        "timezone": "America/New_York",
        "starts_at_local": "2026-10-06T09:00",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "specialty": "dermatology",
        "teaching_topic": "Rashes in the tropics",
        "join_url": "https://meet.example.org/derm",
    }
    participants = overrides.pop("participants", [])
    data.update(overrides)
    sched = Schedule(
        data["timezone"], data["starts_at_local"], data["duration_minutes"], data["rrule"]
    )
    async with sessionmaker()() as s:
        series = RoundSeries(
            title=data["title"],
            host_organization_id=organization_id,
            specialty=data["specialty"],
            teaching_topic=data["teaching_topic"],
            join_url=data["join_url"],
            timezone=sched.timezone,
            starts_at_local=sched.starts_at_local,
            starts_at=sched.starts_at,
            duration_minutes=sched.duration,
            rrule=sched.rule_text,
        )
        sched.apply(series)
        s.add(series)
        await s.flush()
        for user_id, role in participants:
            s.add(RoundParticipant(series_id=series.id, user_id=user_id, role=role))
        await s.commit()
        return series
