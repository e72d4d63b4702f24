"""A programme coordinator in Kinshasa, reading French, matches cases to volunteers across
time zones: the Specialists page is her view of who can help and when. Everyone is listed
(the "only to verify" filter is there, unticked, with how many wait), and for each one:
specialties, languages by name, whether she takes cases, her open cases of her maximum,
whether she can be reached now, and if not when next (her next weekly window, in the
coordinator's time and words), her time off, and her weekly hours in the coordinator's time
with her own zone named in words. Filters: specialty, language, reachable now. Two API
requests per page view, not one per specialist; at 360 px the rows are cards."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.core.clock import utcnow
from tests.console.support import add_person, bearers, ready, seeded_console, signed_in

HER_ZONE = "Africa/Kinshasa"
FR_DAYS = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
FR_MONTHS = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
]  # fmt: skip


def _local(at: datetime, zone: str, hhmm: str) -> datetime:
    day = at.astimezone(ZoneInfo(zone)).date()
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _fr_when(at: datetime) -> str:
    """ "lun. 23 nov., 15:30": a moment as the page says it to her, in Kinshasa."""
    k = at.astimezone(ZoneInfo(HER_ZONE))
    return f"{FR_DAYS[k.weekday()]} {k.day} {FR_MONTHS[k.month - 1]}, {k:%H:%M}"


def _fr_day(d: date) -> str:
    return f"{d.day} {FR_MONTHS[d.month - 1]}"


async def _profile(c: httpx.AsyncClient, auth: dict[str, str], sid: str, **body: Any) -> None:
    r = await c.put(
        f"/api/v1/specialists/{sid}/profile",
        headers=auth,
        json={"max_active_cases": 3, "accepting": True, "time_off": [], **body},
    )
    r.raise_for_status()


async def _cell(page: Any, sid: str, col: str) -> str:
    return str(
        await page.inner_text(f"#specialist-table tr[data-specialist-id='{sid}'] td.sp-{col}")
    )


async def _shown(page: Any) -> set[str]:
    ids = await page.eval_on_selector_all(
        "#specialist-table tbody tr", "rows => rows.map(r => r.dataset.specialistId)"
    )
    return set(ids) if await page.locator("#specialist-table").is_visible() else set()


async def test_the_coordinator_sees_who_can_help_and_when(app, factory, clock):
    now = utcnow()  # a Monday, 10:00 UTC: 11:00 in Kinshasa and Rome, 15:30 in Kolkata
    kolkata = now.astimezone(ZoneInfo("Asia/Kolkata"))
    off_first = kolkata.date() + timedelta(days=7)
    off_last = off_first + timedelta(days=2)
    async with seeded_console(app, factory) as (base, b, prog):
        ana = prog.people["specialist"]["id"]  # dermatology, es/en, UTC, every hour: on duty
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            elena = (await add_person(c, "elena", "Dr Elena Rossi", "specialist"))["id"]
            priya = (await add_person(c, "priya", "Dr Priya Nair", "specialist"))["id"]
            kofi = (await add_person(c, "kofi", "Dr Kofi Mensah", "specialist"))["id"]
            h = await bearers(c, prog, "coordinator")
            await _profile(
                c,
                h["coordinator"],
                elena,
                specialties=["dermatology"],
                languages=["it", "en"],
                timezone="Europe/Rome",
                availability=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
                accepting=False,
                verified=True,
            )
            await _profile(
                c,
                h["coordinator"],
                priya,
                specialties=["pediatrics"],
                languages=["en", "hi"],
                timezone="Asia/Kolkata",
                availability=[{"weekday": kolkata.weekday(), "start": "20:00", "end": "22:00"}],
                time_off=[{"start": off_first.isoformat(), "end": off_last.isoformat()}],
                verified=True,
            )
            await _profile(
                c,
                h["coordinator"],
                kofi,
                specialties=["pediatrics"],
                languages=["fr", "en"],
                timezone="Africa/Accra",
                availability=[{"weekday": d, "start": "08:00", "end": "16:00"} for d in range(7)],
                verified=False,
            )

        ctx = await b.new_context(locale="fr-FR", timezone_id=HER_ZONE)
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), "queue")
        asked: list[str] = []
        page.on(
            "request",
            lambda r: asked.append(r.url) if "/api/v1/specialists" in r.url else None,
        )
        await page.click("#nav a[href='/specialists']")
        await ready(page, "specialists")
        await page.locator(f"#specialist-table tr[data-specialist-id='{elena}']").wait_for()

        # Everyone, by default; the filter to verify is there, unticked, with how many wait.
        assert not await page.is_checked("#only-unverified")
        assert await _shown(page) == {ana, elena, priya, kofi}
        assert "(1)" in await page.inner_text("label[for=only-unverified]")

        # Dr Rossi "is not taking cases": the page says so, with her languages by name.
        assert "Ne prend pas de dossiers" in await _cell(page, elena, "reach")
        assert await _cell(page, elena, "langs") == "italien, anglais"
        assert await _cell(page, elena, "cases") == "0 sur 3"
        assert "Europe/Rome" not in await _cell(page, elena, "zone")
        assert "Rome" in await _cell(page, elena, "zone")

        # Her weekly hours in Kinshasa time (Rome's winter clock is Kinshasa's), days in a row
        # with the same hours said once.
        assert await _cell(page, elena, "hours") == "lun.–ven. 09:00–17:00"

        assert "Joignable maintenant" in await _cell(page, ana, "reach")
        assert await _cell(page, ana, "hours") == "Toutes les heures de la semaine"

        # Dr Nair: not yet, next at 20:00 in Kolkata, said in Kinshasa time and in French.
        opens = _local(now, "Asia/Kolkata", "20:00")
        reach = await _cell(page, priya, "reach")
        assert "Joignable maintenant" not in reach
        assert _fr_when(opens) in reach, reach
        closes = opens + timedelta(hours=2)
        k_open, k_close = (t.astimezone(ZoneInfo(HER_ZONE)) for t in (opens, closes))
        hours = await _cell(page, priya, "hours")
        assert f"{FR_DAYS[k_open.weekday()]} {k_open:%H:%M}–{k_close:%H:%M}" in hours, hours
        zone = await _cell(page, priya, "zone")
        assert "Kolkata" in zone and "Asia/" not in zone, zone
        off = await _cell(page, priya, "off")
        assert _fr_day(off_first) in off and _fr_day(off_last) in off, off

        # Light: the directory and who is on duty, not one request per specialist.
        assert 1 <= len(asked) <= 2, asked

        # Her filters: specialty, language, reachable now; none asks the server again.
        await page.select_option("#filter-specialty", label="Pédiatrie")
        assert await _shown(page) == {priya, kofi}
        await page.select_option("#filter-specialty", value="")
        await page.select_option("#filter-language", label="italien")
        assert await _shown(page) == {elena}
        await page.select_option("#filter-language", value="")
        await page.check("#filter-reachable")
        assert await _shown(page) == {ana}
        await page.uncheck("#filter-reachable")
        await page.check("#only-unverified")
        assert await _shown(page) == {kofi}
        assert len(asked) <= 2, asked

        # Evening in Kolkata: Dr Nair's window is open, and the page says she can be reached.
        clock.advance(opens - utcnow() + timedelta(minutes=5))
        await ctx.clock.set_fixed_time(utcnow())
        await page.reload()
        await ready(page, "specialists")
        await page.locator(f"#specialist-table tr[data-specialist-id='{priya}']").wait_for()
        assert "Joignable maintenant" in await _cell(page, priya, "reach")
        await ctx.close()

        # On a phone: the rows are cards, each value named by its column, nothing wider.
        ctx = await b.new_context(
            locale="fr-FR", timezone_id=HER_ZONE, viewport={"width": 360, "height": 740}
        )
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/specialists")
        await ready(page, "specialists")
        await page.locator(f"#specialist-table tr[data-specialist-id='{priya}']").wait_for()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        row = f"#specialist-table tr[data-specialist-id='{priya}']"
        assert await page.get_attribute(f"{row} td.sp-reach", "data-label")
        assert await page.get_attribute(f"{row} td.sp-hours", "data-label")
        await ctx.close()
