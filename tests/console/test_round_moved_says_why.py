"""A moved occurrence says when it was and why, in a real browser.

A coordinator moves one occurrence of a round to the day before, in the morning, with a
reason, and another without one. The specialist (English, London) and the interpreter
(Spanish, Salta, on a phone) taking part see, on the round page, when it was to be (in
their own language and time) and the reason given: "Moved from …: New Year's Eve …"; one
moved without a reason says just "Moved from …". "Coming up" on /rounds says "moved from …"
beside it too. The defect was a bare "(moved)": the original time and the reason appeared
nowhere.

The server runs in this process and reads the test's clock; the browser's clock is pinned
to the same instant. Every date comes from that clock or from the round's occurrences.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    add_person,
    bearers,
    make_round,
    occurrences,
    ready,
    seeded_console,
    settled,
    signed_in,
)

REASON = "New Year's Eve: clinic closes early"
LONDON = ZoneInfo("Europe/London")
SALTA = ZoneInfo("America/Argentina/Salta")
EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ES_DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]


def _at(iso: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)


def _en(iso: str) -> list[str]:
    """What an English reader in London must read of the instant: weekday, day, time, as her
    browser (en-GB) writes a time: "21:00"."""
    d = _at(iso, LONDON)
    return [EN_DAYS[d.weekday()], str(d.day), f"{d.hour:02d}:{d.minute:02d}"]


def _es(iso: str) -> list[str]:
    """What a Spanish reader in Salta must read of the instant: weekday, day, time, as her
    browser (es-AR) writes a time: "6:00 p. m."."""
    d = _at(iso, SALTA)
    hour = f"{d.hour % 12 or 12}:{d.minute:02d}"
    return [ES_DAYS[d.weekday()], str(d.day), f"{hour} {'p. m.' if d.hour >= 12 else 'a. m.'}"]


def _spaced(text: str) -> str:
    """Intl's narrow and no-break spaces as plain ones."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def test_a_moved_occurrence_says_when_it_was_and_why(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist = prog.people["specialist"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            coord = h["coordinator"]
            interpreter = await add_person(c, "quispe", "Rosa Quispe", "interpreter")
            first_day = (utcnow() + timedelta(days=1)).date()
            rnd = await make_round(c, coord, prog.org["id"], "Skin round", first_day, time="18:00")
            rid = rnd["id"]
            for person, role in ((specialist, "specialist"), (interpreter, "interpreter")):
                r = await c.post(
                    f"/api/v1/rounds/{rid}/participants",
                    headers=coord,
                    json={"user_id": person["id"], "role": role},
                )
                r.raise_for_status()
            first, second, third, *_ = await occurrences(
                c, coord, rid, limit=6, include_cancelled="true"
            )
            # The second to the morning of the day before, with a reason; the third an hour
            # later, without one.
            day_before = date.fromisoformat(second["start_local"][:10]) - timedelta(days=1)
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{second['original_start']}",
                headers=coord,
                json={"starts_at_local": f"{day_before.isoformat()}T10:00", "reason": REASON},
            )
            r.raise_for_status()
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{third['original_start']}",
                headers=coord,
                json={"starts_at_local": f"{third['start_local'][:10]}T19:00"},
            )
            r.raise_for_status()
            after = await occurrences(c, coord, rid, limit=6, include_cancelled="true")
            assert [o["moved"] for o in after[:3]] == [False, True, True]
            assert after[1]["reason"] == REASON

        errors: list[str] = []

        # The interpreter, in Spanish on a phone in Salta.
        ctx = await b.new_context(
            locale="es-AR",
            timezone_id="America/Argentina/Salta",
            viewport={"width": 360, "height": 740},
        )
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, "quispe@console.example.org")
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        item = page.locator(f"#upcoming li[data-round-id='{rid}']").nth(1)
        await item.wait_for()
        said = _spaced(await item.inner_text())
        assert "movida del" in said, said
        for part in _es(second["original_start"]):
            assert part in said.split("movida del", 1)[1], (part, said)
        await item.locator("a").click()
        await ready(page, "round")
        assert await page.input_value("#occurrence") == second["original_start"]
        notice = page.locator("#occurrence-moved")
        await notice.wait_for()
        said = _spaced(await notice.inner_text())
        assert "sesión clínica" in said and said.endswith(REASON), said
        for part in _es(second["original_start"]):
            assert part in said, (part, said)
        assert not await page.is_visible("#occurrence-cancelled")
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        await ctx.close()

        # The specialist, in English in London: the first (not moved) is chosen, no notice.
        ctx = await b.new_context(locale="en-GB", timezone_id="Europe/London")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/rounds/{rid}")
        await ready(page, "round")
        assert await page.input_value("#occurrence") == first["original_start"]
        assert not await page.is_visible("#occurrence-moved")
        await page.select_option("#occurrence", second["original_start"])
        await settled(page)
        said = await page.inner_text("#occurrence-moved")
        assert said.startswith("Moved from ") and said.endswith(f": {REASON}"), said
        for part in _en(second["original_start"]):
            assert part in said, (part, said)
        # Without a reason: just where it was.
        await page.select_option("#occurrence", third["original_start"])
        await settled(page)
        said = await page.inner_text("#occurrence-moved")
        assert said.startswith("Moved from ") and REASON not in said, said
        for part in _en(third["original_start"]):
            assert part in said, (part, said)
        # Coming up says it beside each moved one.
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        items = page.locator(f"#upcoming li[data-round-id='{rid}']")
        await items.nth(2).wait_for()
        assert "moved from" not in await items.nth(0).inner_text()
        for i, o in ((1, second), (2, third)):
            said = await items.nth(i).inner_text()
            assert "moved from" in said, said
            for part in _en(o["original_start"]):
                assert part in said.split("moved from", 1)[1], (part, said)
        assert errors == []
        await ctx.close()
