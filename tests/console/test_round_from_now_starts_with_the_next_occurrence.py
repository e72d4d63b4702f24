"""The round page, in a real browser: a schedule change "from now on" starts with the next
occurrence, even when that one was moved and the one after it cancelled.

A weekly round hosted in Kathmandu at 16:00 has met; its next occurrence was moved to the
day after, the one after that cancelled, and a change applied from the fourth coming one
carries it on in a later series. The coordinator opens the schedule change, leaves "Now",
changes 16:00 to 17:00 and saves. The start offered is the next occurrence's day (as
scheduled, not the day it was moved to, nor the cancelled one's), so nothing is asked
(nothing would be lost), the new series holds the moved occurrence (still at the instant it
was moved to), the cancelled one and the last one at 17:00, and the series still lead on to
the later one.

The server runs in this process and reads the test's clock; every date comes from it or
from the round's own occurrences.
"""

from datetime import date, timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    WEEKDAYS,
    bearers,
    london_page,
    occurrences,
    ready,
    seeded_console,
    signed_in,
)


async def test_from_now_at_a_later_time_starts_with_the_moved_next_occurrence(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            coord = (await bearers(c, prog, "coordinator"))["coordinator"]
            first = (utcnow() - timedelta(days=13)).date()  # it has met
            r = await c.post(
                "/api/v1/rounds",
                headers=coord,
                json={
                    "title": "Bir dermatology staff",
                    "host_organization_id": prog.org["id"],
                    "timezone": "Asia/Kathmandu",
                    "starts_at_local": f"{first.isoformat()}T16:00",
                    "duration_minutes": 60,
                    "rrule": f"FREQ=WEEKLY;BYDAY={WEEKDAYS[first.weekday()]}",
                    "specialty": "dermatology",
                },
            )
            r.raise_for_status()
            rid = r.json()["id"]
            coming = (await occurrences(c, coord, rid, limit=5))[:4]
            days = [o["start_local"][:10] for o in coming]
            moved_day = (date.fromisoformat(days[0]) + timedelta(days=1)).isoformat()
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{coming[0]['original_start']}",
                headers=coord,
                json={"starts_at_local": f"{moved_day}T16:00"},
            )
            r.raise_for_status()
            moved_to = r.json()["start"]
            r = await c.post(
                f"/api/v1/rounds/{rid}/occurrences/{coming[1]['original_start']}/cancel",
                headers=coord,
                json={"reason": "Staff meeting"},
            )
            r.raise_for_status()
            r = await c.patch(
                f"/api/v1/rounds/{rid}",
                headers=coord,
                json={"duration_minutes": 90, "effective_from": coming[3]["original_start"]},
            )
            r.raise_for_status()
            later_id = r.json()["id"]

            errors: list[str] = []
            asked: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))

            async def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                await dialog.accept()

            page.on("dialog", answer)
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}")
            await ready(page, "round")
            await page.click("#round-edit summary")
            assert await page.input_value("#e-from") == ""  # "Now"
            # The next occurrence's day, as scheduled (not the moved one's, nor the
            # cancelled one's).
            assert await page.input_value("#e-start") == f"{days[0]}T16:00"
            await page.fill("#e-start", f"{days[0]}T17:00")
            await page.click("#edit-form button[type=submit]")
            await page.wait_for_url(lambda u: "/rounds/rnd_" in u and not u.endswith(rid))
            await ready(page, "round")
            new_id = page.url.rsplit("/", 1)[-1]
            assert new_id != later_id
            assert asked == []  # nothing would be lost: nothing to agree to

            held = await occurrences(c, coord, new_id, include_cancelled="true", limit=10)
            assert [
                (o["original_start"] == o["start"], o["start_local"], o["cancelled"]) for o in held
            ] == [
                (False, f"{moved_day}T16:00", False),
                (True, f"{days[1]}T17:00", True),
                (True, f"{days[2]}T17:00", False),
            ]
            assert held[0]["start"] == moved_to
            # The chain: this series -> the new one -> the later one, which the page links.
            r = await c.get(f"/api/v1/rounds/{rid}", headers=coord)
            assert r.json()["next_series_id"] == new_id
            r = await c.get(f"/api/v1/rounds/{later_id}", headers=coord)
            assert r.json()["previous_series_id"] == new_id
            assert await page.get_attribute("#round-facts a", "href") == f"/rounds/{later_id}"
            assert errors == []
            await ctx.close()
