"""The round page, in a real browser, for two schedule changes.

"From the 14 December round, at 17:00 instead of 18:00": the coordinator picks the
occurrence to apply the change from and changes the time; the start's date follows the
occurrence she picked (the form offers the next occurrence's), so the new series starts with
that occurrence, at 17:00, and the page goes there.

A new rule with an occurrence of its own where one was moved to is refused by the API
(occurrence-slot-taken): the page says so in her time, naming the moved occurrence, asks
nothing (discarding cannot settle it) and nothing changes.

The server runs in this process and reads the test's clock; every date comes from it or from
the round's own occurrences.
"""

from datetime import date, timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    WEEKDAYS,
    bearers,
    london_page,
    make_round,
    occurrences,
    ready,
    seeded_console,
    settled,
    signed_in,
    status_says,
)


async def test_an_earlier_time_from_a_chosen_occurrence_starts_with_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            coord = (await bearers(c, prog, "coordinator"))["coordinator"]
            # It met two weeks ago and last week, at 18:00.
            first = (utcnow() - timedelta(days=13)).date()
            rnd = await make_round(c, coord, prog.org["id"], "Skin round", first, time="18:00")
            rid = rnd["id"]
            chosen = (await occurrences(c, coord, rid))[2]
            day = chosen["start_local"][:10]

            errors: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            await page.click("#round-edit summary")
            assert await page.input_value("#e-start") != f"{day}T18:00"  # the next one's
            await page.select_option("#e-from", chosen["original_start"])
            assert await page.input_value("#e-start") == f"{day}T18:00"
            await page.fill("#e-start", f"{day}T17:00")
            await page.click("#edit-form button[type=submit]")
            await page.wait_for_url(lambda u: "/rounds/rnd_" in u and not u.endswith(rid))
            await ready(page, "round")
            new_id = page.url.rsplit("/", 1)[-1]
            r = await c.get(f"/api/v1/rounds/{new_id}", headers=coord)
            assert r.json()["starts_at_local"] == f"{day}T17:00"
            assert r.json()["previous_series_id"] == rid
            # The old series keeps the occurrences before that day, at 18:00.
            r = await c.get(
                f"/api/v1/rounds/{rid}/occurrences",
                headers=coord,
                params={"from": f"{first.isoformat()}T00:00:00Z"},
            )
            assert [o["start_local"] for o in r.json()["items"]][-1][11:] == "18:00"
            assert [o["start_local"] for o in r.json()["items"]][-1][:10] < day
            assert errors == []
            await ctx.close()


async def test_a_picked_occurrence_alone_changes_nothing(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            coord = (await bearers(c, prog, "coordinator"))["coordinator"]
            first = (utcnow() - timedelta(days=13)).date()
            rnd = await make_round(c, coord, prog.org["id"], "Skin round", first, time="18:00")
            chosen = (await occurrences(c, coord, rnd["id"]))[2]
            ctx, page = await london_page(b)
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rnd['id']}")
            await ready(page, "round")
            await page.click("#round-edit summary")
            await page.select_option("#e-from", chosen["original_start"])
            await page.click("#edit-form button[type=submit]")
            await status_says(page, "Nothing")
            r = await c.get(f"/api/v1/rounds/{rnd['id']}", headers=coord)
            assert r.json()["next_series_id"] is None
            await ctx.close()


async def test_a_rule_onto_a_moved_occurrence_is_said_and_nothing_changes(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            coord = (await bearers(c, prog, "coordinator"))["coordinator"]
            first = (utcnow() + timedelta(days=1)).date()  # it has not met yet
            rnd = await make_round(c, coord, prog.org["id"], "Skin round", first, time="18:00")
            rid = rnd["id"]
            second = (await occurrences(c, coord, rid))[1]
            to_day = date.fromisoformat(second["start_local"][:10]) + timedelta(days=2)
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{second['original_start']}",
                headers=coord,
                json={"starts_at_local": f"{to_day.isoformat()}T18:00"},
            )
            r.raise_for_status()
            before = await occurrences(c, coord, rid)

            errors: list[str] = []
            asked: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))

            async def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", answer)
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            await page.click("#round-edit summary")
            days = f"{WEEKDAYS[first.weekday()]},{WEEKDAYS[to_day.weekday()]}"
            await page.select_option("#e-repeat", "custom")
            await page.fill("#e-rrule", f"FREQ=WEEKLY;BYDAY={days}")
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            said = await status_says(page, "Not saved", "moved to")
            assert "would start at the same time as" in said
            assert asked == []
            assert await occurrences(c, coord, rid) == before
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord)
            assert r.json()["rrule"] == f"FREQ=WEEKLY;BYDAY={WEEKDAYS[first.weekday()]}"
            assert errors == []
            await ctx.close()
