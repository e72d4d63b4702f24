"""A round's cancelled occurrence and its schedule edits, in a real browser.

A coordinator moved one occurrence and cancelled another; the round page names the host
facility, lists the cancelled one marked, with its reason, and offers nothing to join, move
or tick on it; "Coming up" marks it too. She then starts the round an hour earlier: "Saved.",
and the moved one is still moved, the cancelled one still cancelled (the defect was that
they came back). Moving the round to another weekday would drop them: she is asked, naming
them; saying no keeps everything as it was, saying yes saves the new schedule without them.
The specialist taking part sees the cancelled occurrence marked and the host by name.

The server runs in this process and reads the test's clock; the browser's clock is pinned
to the same instant. Every date comes from that clock or from the round's occurrences.
"""

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

HOST = "Hospital San Roque"
JOIN = "https://meet.example.org/skin"


async def test_cancelled_occurrences_show_and_survive_a_new_start_time(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist = prog.people["specialist"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            coord = h["coordinator"]
            first_day = (utcnow() + timedelta(days=1)).date()  # it has not met yet
            rnd = await make_round(c, coord, prog.org["id"], "Skin round", first_day, time="18:00")
            rid = rnd["id"]
            r = await c.patch(f"/api/v1/rounds/{rid}", headers=coord, json={"join_url": JOIN})
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/rounds/{rid}/participants",
                headers=coord,
                json={"user_id": specialist["id"], "role": "specialist"},
            )
            r.raise_for_status()
            _, second, third, *_ = await occurrences(
                c, coord, rid, limit=6, include_cancelled="true"
            )
            moved_to = (
                date.fromisoformat(second["start_local"][:10]) + timedelta(days=2)
            ).isoformat()
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{second['original_start']}",
                headers=coord,
                json={"starts_at_local": f"{moved_to}T18:00"},
            )
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/rounds/{rid}/occurrences/{third['original_start']}/cancel",
                headers=coord,
                json={"reason": "Public holiday."},
            )
            r.raise_for_status()

            errors: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(page, base, prog.email("coordinator"), "queue")

            # Coming up: the cancelled one is there, marked.
            await page.goto(f"{base}/rounds")
            await ready(page, "rounds")
            off = page.locator(f"#upcoming li[data-round-id='{rid}'][data-cancelled]")
            await off.first.wait_for()
            assert await off.count() == 1
            assert "cancelled" in await off.inner_text()
            assert await page.locator(f"#upcoming li[data-round-id='{rid}']").count() >= 3

            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            facts = await page.inner_text("#round-facts")
            assert "Host facility" in facts and HOST in facts
            # The first is chosen and joinable; the cancelled one is listed, marked.
            assert await page.is_visible("#round-join")
            assert not await page.is_visible("#occurrence-cancelled")
            label = page.locator(f"#occurrence option[value='{third['original_start']}']")
            assert "(cancelled)" in await label.inner_text()
            await page.select_option("#occurrence", third["original_start"])
            await settled(page)
            assert (
                await page.inner_text("#occurrence-cancelled")
                == "This occurrence is cancelled: Public holiday."
            )
            for part in ("#round-join", "#occurrence-change", "#suggest-box", "#attendance-wait"):
                assert not await page.is_visible(part), part
            boxes = page.locator("#attendance input[type=checkbox]")
            assert await boxes.count() == 1 and await boxes.first.is_disabled()
            assert await axe_violations(page) == []

            # An hour earlier, from the series' first start: saved in place, and the moved
            # and cancelled occurrences stay so.
            await page.click("#round-edit summary")
            start = await page.input_value("#e-start")
            assert start.endswith("T18:00")
            await page.fill("#e-start", start[:11] + "17:00")
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "Saved")
            after = await occurrences(c, coord, rid, limit=6, include_cancelled="true")
            assert [(o["moved"], o["cancelled"]) for o in after[:4]] == [
                (False, False),
                (True, False),
                (False, True),
                (False, False),
            ]
            assert after[1]["start_local"] == f"{moved_to}T18:00"
            assert after[2]["reason"] == "Public holiday."
            assert after[0]["start_local"].endswith("T17:00")
            marked = await page.locator("#occurrence option[data-cancelled]").evaluate_all(
                "os => os.map(o => o.value)"
            )
            assert marked == [after[2]["original_start"]]
            assert "moved" in await page.inner_text(
                f"#occurrence option[value='{after[1]['original_start']}']"
            )

            # The next day of the week instead: the moved and cancelled ones have no day in
            # it. She is asked, naming them; no keeps everything as it was.
            said: list[str] = []

            async def answer(dialog: Any) -> None:
                said.append(dialog.message)
                await (dialog.accept() if len(said) > 1 else dialog.dismiss())

            page.on("dialog", answer)
            start = await page.input_value("#e-start")
            next_day = (date.fromisoformat(start[:10]) + timedelta(days=1)).isoformat()
            await page.fill("#e-start", f"{next_day}T17:00")
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "Not saved")
            assert len(said) == 1
            assert "the cancellation of" in said[0] and "moved to" in said[0], said
            assert await occurrences(c, coord, rid, limit=6, include_cancelled="true") == after
            assert await page.input_value("#e-start") == f"{next_day}T17:00"
            # Yes: the new schedule, without them.
            await page.click("#edit-form button[type=submit]")
            await settled(page)
            await status_says(page, "Saved")
            now = await occurrences(c, coord, rid, limit=6, include_cancelled="true")
            assert now[0]["start_local"] == f"{next_day}T17:00"
            assert not any(o["moved"] or o["cancelled"] for o in now)
            assert not await page.locator("#occurrence option[data-cancelled]").count()
            assert errors == []

            # The specialist sees a cancelled occurrence marked, and the host by name.
            r = await c.post(
                f"/api/v1/rounds/{rid}/occurrences/{now[1]['original_start']}/cancel",
                headers=coord,
            )
            r.raise_for_status()
            spec_ctx, spec = await london_page(b)
            spec.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(spec, base, prog.email("specialist"))
            await spec.goto(f"{base}/rounds/{rid}?start={now[1]['original_start']}")
            await ready(spec, "round")
            assert HOST in await spec.inner_text("#round-facts")
            assert await spec.input_value("#occurrence") == now[1]["original_start"]
            assert await spec.inner_text("#occurrence-cancelled") == "This occurrence is cancelled."
            assert not await spec.is_visible("#round-join")
            assert errors == []
            await ctx.close()
            await spec_ctx.close()
