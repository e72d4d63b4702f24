"""Round test data: a series written as the service would write it."""

from datetime import date, timedelta
from typing import Any

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.rounds.models import RoundParticipant, RoundSeries
from app.rounds.schedule import Schedule

API = "/api/v1"


def weekday_weeks_before(weekday: int, weeks: int) -> date:
    """That weekday (0 = Monday) of the week `weeks` before the tests' now: the last such
    day on or before today, then `weeks` weeks earlier."""
    today = utcnow().date()
    return today - timedelta(days=(today.weekday() - weekday) % 7 + 7 * weeks)


async def make_round(organization_id: str, **overrides: Any) -> RoundSeries:
    data: dict[str, Any] = {
        "title": "Dermatology rounds",
        "timezone": "America/New_York",
        # Begun on a Tuesday some weeks before the tests' now (2026-10-06 at their T0).
        "starts_at_local": f"{weekday_weeks_before(1, 6).isoformat()}T09:00",
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


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


async def held_for_weeks(
    factory: Any, facility: str, timezone: str, weekday: int, time: str, weeks: int
) -> tuple[Any, Any, Any, RoundSeries]:
    """A facility's weekly round (`weekday` 0 = Monday, at `time` in `timezone`) begun on
    that weekday `weeks` or more weeks before the tests' now, so some occurrences have been
    held and others are to come; its local clinician takes part, and a coordinator runs it.
    The facility, the clinician, the coordinator and the round."""
    org = await factory.make_org(name=facility, timezone=timezone)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    first = weekday_weeks_before(weekday, weeks)
    rnd = await make_round(
        org.id,
        timezone=timezone,
        starts_at_local=f"{first.isoformat()}T{time}",
        rrule=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[weekday]}",
        participants=[(clin.id, "local_team")],
    )
    return org, clin, coord, rnd
