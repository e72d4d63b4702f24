"""Virtual rounds under load: expanding occurrences, the series' iCalendar, a personal feed
(with ten rounds), and the suggested agenda over a queue of 200 open cases."""

from typing import Any

from bench.scenarios import Target


async def targets(ctx: Any) -> list[Target]:
    from app.core.principal import Principal, Role
    from app.rounds.calendar import rotate_token
    from tests.rounds.support import make_round

    org = await ctx.f.make_org(name="Bench rounds clinic", timezone="America/New_York")
    clin = await ctx.f.make_user(Role.clinician, organization_id=org.id)
    spec = await ctx.f.make_user(Role.specialist)
    rounds = [
        await make_round(
            org.id,
            title=f"Round {i}",
            starts_at_local="2026-10-06T09:00",
            rrule="FREQ=WEEKLY;BYDAY=TU" if i % 2 else "FREQ=MONTHLY;BYDAY=-1FR",
            participants=[(spec.id, "specialist")],
        )
        for i in range(10)
    ]
    for i in range(200):
        await ctx.f.make_case(
            org.id, specialty="dermatology", status="unmatched" if i % 7 == 0 else "submitted"
        )
    async with ctx.session() as s:
        token = await rotate_token(
            s, Principal(id=spec.id, kind="user", role=Role.specialist, organization_id=None)
        )
        await s.commit()
    rid = rounds[1].id
    h = ctx.headers(clin)
    return [
        Target(
            "GET /rounds/{id}/occurrences (1 year)",
            "GET",
            f"/api/v1/rounds/{rid}/occurrences?from=2026-10-01T00:00:00Z"
            f"&to=2027-10-01T00:00:00Z&limit=200",
            headers=h,
        ),
        Target(
            "GET /rounds/{id}/calendar.ics", "GET", f"/api/v1/rounds/{rid}/calendar.ics", headers=h
        ),
        Target("GET /calendar/{token}.ics (10 rounds)", "GET", f"/api/v1/calendar/{token}.ics"),
        Target(
            "GET .../suggested-agenda (200 cases)",
            "GET",
            f"/api/v1/rounds/{rid}/occurrences/2026-10-13T13:00:00Z/suggested-agenda",
            headers=h,
        ),
    ]
