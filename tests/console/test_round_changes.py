"""Changing a round from its page, in a real browser: a coordinator moves one occurrence
(the page and the API show its new time), cancels one (still in the page's list, marked
cancelled with its reason; the API lists it only with include_cancelled), renames the
series, meets a change someone made meanwhile (412: the round as it is now, her change kept
to save again; a move too) and deletes the series; a schedule change to a series that has
already met carries on as a new series, and the page goes there; a specialist taking part
sees none of these controls; a double booking is said with the other round's title and the
times in the viewer's zone.

The server runs in this process and reads the test's clock; every date comes from it or
from the round's own occurrences.
"""

import re
from datetime import date, timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    axe_violations,
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


async def test_a_coordinator_moves_cancels_renames_and_deletes(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            coord_h = h["coordinator"]
            rnd = await make_round(
                c, coord_h, prog.org["id"], "Skin round", (utcnow() + timedelta(days=1)).date()
            )
            rid = rnd["id"]
            first, second, third = (await occurrences(c, coord_h, rid, limit=3))[:3]

            errors: list[str] = []
            ctx, page = await london_page(b, viewport={"width": 360, "height": 740})  # a phone
            page.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            assert await page.is_visible("#round-edit")
            assert await page.is_visible("#occurrence-change")
            # Both parts open fit the phone's width and pass axe-core.
            await page.click("#occurrence-change summary")
            await page.click("#round-edit summary")
            await page.select_option("#e-repeat", "custom")  # the rule's text, shown
            assert await page.is_visible("#e-rrule") and await page.is_visible("#move-start")
            assert await page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth + 1"
            )
            assert await axe_violations(page) == []

            # Move the second occurrence two hours later, in the host's wall time.
            await page.select_option("#occurrence", second["original_start"])
            await settled(page)
            assert "(Salta, " in await page.inner_text("label[for=move-start]")
            assert await page.input_value("#move-start") == second["start_local"]
            later = second["start_local"][:11] + "11:00"
            await page.fill("#move-start", later)
            await page.fill("#move-reason", "The specialist is travelling.")
            await page.click("#move-form button[type=submit]")
            await settled(page)
            await status_says(page, "Moved")
            assert await page.input_value("#occurrence") == second["original_start"]
            assert "11:00" in await page.inner_text("#occurrence-host")
            assert "moved" in await page.inner_text("#occurrence option:checked")
            moved = [
                o
                for o in await occurrences(c, coord_h, rid, limit=3)
                if o["original_start"] == second["original_start"]
            ]
            assert moved and moved[0]["moved"] and moved[0]["start_local"] == later
            assert await page.input_value("#move-start") == later

            # Cancel the third: marked in the list, listed by the API only on request.
            await page.select_option("#occurrence", third["original_start"])
            await settled(page)
            said: list[str] = []

            async def accept(dialog: Any) -> None:
                said.append(dialog.message)
                await dialog.accept()

            page.once("dialog", accept)
            await page.fill("#cancel-reason", "Public holiday.")
            await page.click("#cancel-form button[type=submit]")
            await settled(page)
            await status_says(page, "is cancelled")
            assert said and "Cancel the occurrence" in said[0]
            options = await page.locator("#occurrence option").evaluate_all(
                "os => os.map(o => o.value)"
            )
            assert first["original_start"] in options and second["original_start"] in options
            # Still listed, marked cancelled and chosen, with the reason; nothing to change.
            assert third["original_start"] in options
            assert await page.input_value("#occurrence") == third["original_start"]
            assert "cancelled" in await page.inner_text("#occurrence option:checked")
            assert "Public holiday." in await page.inner_text("#occurrence-cancelled")
            assert not await page.is_visible("#occurrence-change")
            listed = {o["original_start"] for o in await occurrences(c, coord_h, rid, limit=5)}
            assert third["original_start"] not in listed
            every = await occurrences(c, coord_h, rid, limit=5, include_cancelled="true")
            gone = [o for o in every if o["original_start"] == third["original_start"]]
            assert gone and gone[0]["cancelled"]

            # Rename the series: it has not met yet, so it is edited in place.
            await page.fill("#e-title", "Skin and soft tissue round")
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "Saved")
            assert await page.inner_text("#round-title") == "Skin and soft tissue round"
            assert page.url.endswith(f"/rounds/{rid}")
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord_h)
            assert r.json()["title"] == "Skin and soft tissue round"

            # Someone changes the round meanwhile: her save is refused (412), the page shows
            # the round as it is now, her change stays in the form and saves the second time.
            r = await c.patch(
                f"/api/v1/rounds/{rid}",
                headers={**coord_h, "If-Match": r.headers["ETag"]},
                json={"teaching_topic": "Cellulitis or not?"},
            )
            r.raise_for_status()
            await page.fill("#e-duration", "90")
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "changed this round meanwhile")
            assert "Cellulitis or not?" in await page.inner_text("#round-facts")
            assert await page.input_value("#e-topic") == "Cellulitis or not?"
            assert await page.input_value("#e-duration") == "90"
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "Saved")
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord_h)
            assert r.json()["duration_minutes"] == 90
            assert r.json()["teaching_topic"] == "Cellulitis or not?"

            # A move from a page that has not seen a change made meanwhile is refused too:
            # the round as it is now is shown, the time she typed stays, and moves the second
            # time. The occurrence did not move on the first try.
            r = await c.patch(
                f"/api/v1/rounds/{rid}",
                headers={**coord_h, "If-Match": r.headers["ETag"]},
                json={"teaching_topic": "Erysipelas"},
            )
            r.raise_for_status()
            await page.select_option("#occurrence", first["original_start"])
            await settled(page)
            earlier = first["start_local"][:11] + "08:00"
            await page.fill("#move-start", earlier)
            await page.click("#move-form button[type=submit]")
            await settled(page)
            await status_says(page, "changed this round meanwhile")
            assert "Erysipelas" in await page.inner_text("#round-facts")
            assert await page.input_value("#move-start") == earlier
            [still] = [
                o
                for o in await occurrences(c, coord_h, rid, limit=3)
                if o["original_start"] == first["original_start"]
            ]
            assert not still["moved"]
            await page.click("#move-form button[type=submit]")
            await settled(page)
            await status_says(page, "Moved")
            [now] = [
                o
                for o in await occurrences(c, coord_h, rid, limit=3)
                if o["original_start"] == first["original_start"]
            ]
            assert now["moved"] and now["start_local"] == earlier

            # Delete it: the rounds page, and the API has it no more.
            page.once("dialog", accept)
            await page.click("#round-delete")
            await page.wait_for_url(f"{base}/rounds")
            await ready(page, "rounds")
            await status_says(page, "is deleted")
            assert "Skin and soft tissue round" in said[-1]
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord_h)
            assert r.status_code == 404
            assert await page.locator(f"#round-list a[href='/rounds/{rid}']").count() == 0
            assert errors == []
            await ctx.close()


async def test_a_schedule_change_after_the_round_has_met_carries_on_as_a_new_series(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist = prog.people["specialist"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            coord_h = h["coordinator"]
            # It met two weeks ago and last week.
            rnd = await make_round(
                c, coord_h, prog.org["id"], "Skin round", (utcnow() - timedelta(days=13)).date()
            )
            rid = rnd["id"]
            r = await c.post(
                f"/api/v1/rounds/{rid}/participants",
                headers=coord_h,
                json={"user_id": specialist["id"], "role": "specialist"},
            )
            r.raise_for_status()
            nxt = (await occurrences(c, coord_h, rid, limit=1))[0]

            errors: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            await page.click("#round-edit summary")
            # Offered from its next occurrence, and told the past stays as it was.
            assert await page.input_value("#e-start") == nxt["start_local"]
            assert await page.is_visible("#e-from-help")
            assert await page.input_value("#e-repeat") == "weekly"
            ten = nxt["start_local"][:11] + "10:00"
            await page.fill("#e-start", ten)
            await page.click("#edit-form button[type=submit]")
            await page.wait_for_url(lambda u: "/rounds/rnd_" in u and not u.endswith(rid))
            await ready(page, "round")
            new_id = page.url.rsplit("/", 1)[-1]
            await status_says(page, "this is the round from now on")
            assert await page.inner_text("#round-title") == "Skin round"
            day = date.fromisoformat(ten[:10])  # the host's wall time, said in words
            said = f"{day.day} {day:%b} {day.year}, 10:00"
            facts = await page.inner_text("#round-facts")
            assert said in facts and "(Salta, " in facts and "America/" not in facts, facts
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord_h)
            assert r.json()["next_series_id"] == new_id
            r = await c.get(f"/api/v1/rounds/{new_id}", headers=coord_h)
            assert r.json()["starts_at_local"] == ten
            assert r.json()["previous_series_id"] == rid
            assert errors == []

            # A double booking, in her words: a round at the same hour as the new series.
            clash = await make_round(
                c,
                coord_h,
                prog.org["id"],
                "Wound care round",
                date.fromisoformat(ten[:10]),
                time="10:30",
            )
            await page.goto(f"{base}/rounds/{clash['id']}")
            await ready(page, "round")
            await page.select_option("#participant-user", specialist["id"])
            await page.click("#participant-form button[type=submit]")
            await settled(page)
            text = await status_says(page, "Skin round")
            assert "Dr Ana Ruiz is already booked into “Skin round”" in text, text
            assert "Book even if it overlaps" in text and "allow_conflict" not in text, text
            assert not re.search(r"\d{4}-\d{2}-\d{2}T", text), text  # no ISO instant

            # The specialist taking part sees the round, but nothing to change it with.
            spec_ctx, spec = await london_page(b)
            spec.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(spec, base, prog.email("specialist"), "inbox")
            for shown in (rid, new_id):
                await spec.goto(f"{base}/rounds/{shown}")
                await ready(spec, "round")
                for part in ("#occurrence-change", "#round-edit", "#round-delete", "#move-form"):
                    assert not await spec.is_visible(part), (shown, part)
            assert errors == []
            await ctx.close()
            await spec_ctx.close()
