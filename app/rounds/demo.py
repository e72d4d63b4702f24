"""Demo rounds: a weekly dermatology round in Salta and a monthly paediatrics one in Kisumu."""

from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.core.clock import utcnow
from app.core.principal import Role
from app.organizations.models import Organization
from app.rounds.models import RoundParticipant, RoundSeries
from app.rounds.schedule import Schedule


class DemoRound(TypedDict):
    org: str
    title: str
    specialty: str
    rrule: str
    time: str
    duration: int
    topic: str
    specialist: str
    join_url: str


ROUNDS: list[DemoRound] = [
    {
        "org": "salta",
        "title": "Puna dermatology rounds",
        "specialty": "dermatology",
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "time": "09:00",
        "duration": 60,
        "topic": "Chronic rashes at altitude",
        "specialist": "Dr Ana Ruiz",
        "join_url": "https://meet.example.org/puna-derm",
    },
    {
        "org": "kisumu",
        "title": "Lake paediatrics case conference",
        "specialty": "pediatrics",
        "rrule": "FREQ=MONTHLY;BYDAY=-1FR",
        "time": "14:00",
        "duration": 90,
        "topic": "Severe malaria in under-fives",
        "specialist": "Dr Grace Otieno",
        "join_url": "https://meet.example.org/lake-paeds",
    },
]


async def load(
    session: AsyncSession,
    orgs: dict[str, Organization],
    specialists: list[tuple[User, dict[str, Any]]],
) -> None:
    by_name = {u.name: u for u, _ in specialists}
    for spec in ROUNDS:
        org = orgs[spec["org"]]
        today = utcnow().astimezone(ZoneInfo(org.timezone)).strftime("%Y-%m-%d")
        sched = Schedule(org.timezone, f"{today}T{spec['time']}", spec["duration"], spec["rrule"])
        series = RoundSeries(
            title=spec["title"],
            host_organization_id=org.id,
            specialty=spec["specialty"],
            teaching_topic=spec["topic"],
            join_url=spec["join_url"],
            timezone=org.timezone,
            starts_at_local=sched.starts_at_local,
            starts_at=sched.starts_at,
            duration_minutes=sched.duration,
            rrule=sched.rule_text,
        )
        sched.apply(series)
        session.add(series)
        await session.flush()
        local_team = await session.scalars(
            select(User).where(
                col(User.organization_id) == org.id, col(User.role) == Role.clinician.value
            )
        )
        for u in local_team:
            session.add(RoundParticipant(series_id=series.id, user_id=u.id, role="local_team"))
        session.add(
            RoundParticipant(
                series_id=series.id, user_id=by_name[spec["specialist"]].id, role="specialist"
            )
        )
    await session.flush()
