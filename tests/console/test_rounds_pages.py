"""The rounds pages in a real browser, beyond the server's default 90 days of occurrences:
a round whose first start is five months ahead shows its occurrences, its time, its agenda
and its suggestions, and is under "Coming up"; a monthly one offers its next 20 occurrences
(not the three of the next 90 days); the "Coming up" list of several series misses no
occurrence of one while showing a later one of another; an interpreter has the Rounds link;
attendance cannot be ticked (and says so) before the occurrence has begun, and can once it
has; only those who may tick are told to tick.

The server runs in this process and reads the test's clock; the browser's clock is set to
the same instant (`clock.set_fixed_time`), since the page judges "begun" by it for the
occurrence that may be under way.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.console.support import (
    add_person,
    bearers,
    london_page,
    make_round,
    ready,
    seeded_console,
    settled,
    signed_in,
    submit_case,
)
from tests.timing import T0

SALTA = ZoneInfo("America/Argentina/Salta")
QUESTION = "Hyperpigmented plaques on both shins for a year: necrobiosis lipoidica?"


def _z(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first(day: date) -> datetime:
    """09:00 in Salta on `day`, in UTC."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SALTA).astimezone(UTC)


async def test_a_round_months_ahead_and_attendance_once_it_has_begun(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        org = prog.org["id"]
        clinician, specialist = prog.people["clinician"], prog.people["specialist"]
        day = (T0 + timedelta(days=150)).date()
        day = day.replace(day=min(day.day, 28))  # every month has it
        first = _first(day)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator")
            interpreter = await add_person(c, "quispe", "Rosa Quispe", "interpreter")
            case_id = await submit_case(c, h["clinician"], QUESTION)
            weekly = (await make_round(c, h["coordinator"], org, "Far weekly", day))["id"]
            monthly = (
                await make_round(
                    c,
                    h["coordinator"],
                    org,
                    "Far monthly",
                    day,
                    f"FREQ=MONTHLY;BYMONTHDAY={day.day}",
                )
            )["id"]
            for person, role in (
                (specialist, "specialist"),
                (clinician, "local_team"),
                (interpreter, "interpreter"),
            ):
                r = await c.post(
                    f"/api/v1/rounds/{weekly}/participants",
                    headers=h["coordinator"],
                    json={"user_id": person["id"], "role": role},
                )
                r.raise_for_status()

        errors: list[str] = []
        coord_ctx, coord = await london_page(b, clock.now())
        coord.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(coord, base, prog.email("coordinator"), "queue")

        # Five months ahead: the page shows its next 20 occurrences, the first chosen.
        await coord.goto(f"{base}/rounds/{weekly}")
        await ready(coord, "round")
        options = await coord.locator("#occurrence option").evaluate_all(
            "os => os.map(o => o.value)"
        )
        assert len(options) == 20
        assert options[0] == _z(first) and await coord.input_value("#occurrence") == _z(first)
        assert options[-1] == _z(_first(day + timedelta(weeks=19)))
        assert await coord.get_attribute("#occurrence-local", "data-start") == _z(first)
        assert "09:00 at the host" in await coord.inner_text("#occurrence-host")
        assert await coord.inner_text("#agenda") == "Nothing on the agenda."
        await coord.wait_for_selector(f"#suggested li[data-case-id='{case_id}']")
        # Not begun: nobody can be ticked yet, and the page says why.
        boxes = coord.locator("#attendance input[type=checkbox]")
        assert await boxes.count() == 3
        for i in range(3):
            assert await boxes.nth(i).is_disabled()
        assert await coord.is_visible("#attendance-wait")
        assert await coord.is_visible("#attendance-help")

        # A monthly one: its next 20 months, not the three of the server's 90 days.
        await coord.goto(f"{base}/rounds/{monthly}")
        await ready(coord, "round")
        options = await coord.locator("#occurrence option").evaluate_all(
            "os => os.map(o => o.value)"
        )
        assert len(options) == 20
        assert options[0] == _z(first)

        # "Coming up" holds both.
        await coord.goto(f"{base}/rounds")
        await ready(coord, "rounds")
        for rid in (weekly, monthly):
            await coord.wait_for_selector(f"#upcoming li[data-round-id='{rid}']")
        starts = await coord.locator("#upcoming li").evaluate_all(
            "ls => ls.map(l => l.dataset.start)"
        )
        assert starts and all(s and datetime.fromisoformat(s) >= first for s in starts)

        # The specialist is not told to tick what she cannot.
        spec_ctx, spec = await london_page(b, clock.now())
        spec.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(spec, base, prog.email("specialist"))
        await spec.goto(f"{base}/rounds/{weekly}")
        await ready(spec, "round")
        # She meets the others by name: the participant list carries them, though
        # GET /users/{id} hides other people from a specialist.
        for where in ("#participants", "#attendance"):
            shown = await spec.inner_text(where)
            for person in (clinician, specialist, interpreter):
                assert person["name"] in shown, (where, shown)
            assert "A participant" not in shown
        assert await spec.locator("#attendance input[type=checkbox]").count() == 3
        assert not await spec.is_visible("#attendance-help")
        assert not await spec.is_visible("#attendance-wait")

        # The interpreter finds the rounds from the navigation.
        int_ctx, interp = await london_page(b, clock.now())
        interp.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(interp, base, "quispe@console.example.org", "cases")
        await interp.click("#nav a[href='/rounds']")
        await ready(interp, "rounds")
        await interp.wait_for_selector(f"#round-list a[href='/rounds/{weekly}']")
        assert await interp.locator(f"#upcoming li[data-round-id='{weekly}']").count() > 0

        # Five minutes into the first occurrence (by the server's clock and the browser's):
        # attendance is ticked; the next occurrence's still cannot be.
        clock.set(first + timedelta(minutes=5))
        await coord_ctx.clock.set_fixed_time(clock.now())
        await coord.goto(f"{base}/rounds/{weekly}")
        await ready(coord, "round")
        assert await coord.input_value("#occurrence") == _z(first)
        row = f"#attendance li[data-user-id='{clinician['id']}']"
        assert await coord.is_enabled(f"{row} input")
        assert not await coord.is_visible("#attendance-wait")
        await coord.click(f"{row} input")
        await coord.wait_for_selector(f"{row} input:checked")
        await settled(coord)
        await coord.wait_for_selector(f"{row} .local")
        assert await coord.get_attribute("#status", "data-kind") != "error"
        await coord.select_option("#occurrence", _z(_first(day + timedelta(weeks=1))))
        await settled(coord)
        await coord.wait_for_selector("#attendance-wait:not([hidden])")
        assert await coord.is_disabled(f"{row} input")

        assert errors == []
        for ctx in (coord_ctx, spec_ctx, int_ctx):
            await ctx.close()


async def test_coming_up_misses_nothing_between_what_it_shows(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        org = prog.org["id"]
        day = (T0 + timedelta(days=1)).date()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            daily = (await make_round(c, h["coordinator"], org, "Daily huddle", day, "FREQ=DAILY"))[
                "id"
            ]
            weekly = (await make_round(c, h["coordinator"], org, "Weekly round", day))["id"]

            ctx, page = await london_page(b, clock.now())
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds")
            await ready(page, "rounds")
            shown = await page.locator("#upcoming li").evaluate_all(
                "ls => ls.map(l => [l.dataset.roundId, l.dataset.start])"
            )
            assert len(shown) >= 10
            assert {rid for rid, _ in shown} == {daily, weekly}
            last = max(datetime.fromisoformat(s) for _, s in shown)
            # Everything the API has from now up to the last one shown is shown.
            expected = set()
            for rid in (daily, weekly):
                r = await c.get(
                    f"/api/v1/rounds/{rid}/occurrences",
                    headers=h["coordinator"],
                    params={"to": (last + timedelta(seconds=1)).isoformat(), "limit": 200},
                )
                r.raise_for_status()
                expected |= {(rid, o["start"]) for o in r.json()["items"]}
            got = {(rid, datetime.fromisoformat(s)) for rid, s in shown}
            assert got == {(rid, datetime.fromisoformat(s)) for rid, s in expected}
            await ctx.close()
