"""What the service refuses on the Availability page, in a real browser, in the specialist's
language: each refusal names the row in her words ("Plage 2 (mardi 09:00-08:00)", never
`availability.1` or pydantic's English), marks that row's inputs aria-invalid, and stays in
a box beside the form (not the passing #status toast) until she changes something; nothing
she typed is lost. A time off with no last day is asked for, never reported saved."""

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

BOX = "#profile-problem"
WINDOWS = [
    {"weekday": 0, "start": "09:00", "end": "13:00"},
    {"weekday": 1, "start": "09:00", "end": "13:00"},
]


def _day(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()  # the tests' clock


async def _profile(base: str, prog: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "coordinator")
        r = await c.get(
            f"/api/v1/specialists/{prog.people['specialist']['id']}", headers=h["coordinator"]
        )
        r.raise_for_status()
        return dict(r.json())


async def _plain_week(base: str, prog: Any) -> None:
    """Two windows (Monday and Tuesday mornings) in Paris, no time off."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "coordinator")
        r = await c.put(
            f"/api/v1/specialists/{prog.people['specialist']['id']}/profile",
            headers=h["coordinator"],
            json={
                "specialties": ["dermatology"],
                "languages": ["es", "fr"],
                "timezone": "Europe/Paris",
                "availability": WINDOWS,
                "time_off": [],
                "max_active_cases": 5,
                "accepting": True,
            },
        )
        r.raise_for_status()


async def _save(page: Any) -> int:
    async with page.expect_response(
        lambda r: r.url.endswith("/profile") and r.request.method == "PUT"
    ) as put:
        await page.click("#profile-form button[type=submit]")
    return int((await put.value).status)


async def _refusal(page: Any) -> str:
    """The refusal as she reads it: in the persistent box beside the form, not the toast."""
    box = page.locator(BOX)
    await box.wait_for(state="visible")
    text = str(await box.inner_text())
    assert await page.evaluate(
        f"""() => {{
            const box = document.querySelector('{BOX}');
            return box.id !== 'status' && !!box.closest('#profile-form');
        }}"""
    )
    assert text not in await page.inner_text("#status")
    for internal in ("Value error", "availability.", "time_off.", "/availability", "/time_off"):
        assert internal not in text, text
    return text


async def _invalid(page: Any, selector: str) -> list[str | None]:
    return list(
        await page.eval_on_selector_all(
            selector, "els => els.map(el => el.getAttribute('aria-invalid'))"
        )
    )


ROW_INPUTS = "[name=weekday], [name=start], [name=end]"


async def test_refusals_in_french_name_the_row_and_stay_beside_the_form(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        await _plain_week(base, prog)
        ctx = await b.new_context(locale="fr-FR", timezone_id="Europe/Paris")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), lang="fr")
        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        assert await page.get_attribute("html", "lang") == "fr"

        # A window ending before it starts: the second one, Tuesday 09:00-08:00.
        await page.fill("#windows li:nth-child(2) [name=end]", "08:00")
        assert await _save(page) == 422
        text = await _refusal(page)
        assert "Plage 2 (mardi 09:00-08:00)" in text, text
        assert "la fin doit être après le début" in text, text
        row2 = f"#windows li:nth-child(2) :is({ROW_INPUTS})"
        assert await _invalid(page, row2) == ["true", "true", "true"]
        assert await _invalid(page, f"#windows li:nth-child(1) :is({ROW_INPUTS})") == [None] * 3
        assert await page.input_value("#windows li:nth-child(2) [name=end]") == "08:00"
        # Persistent: still there after another look, gone once she changes something.
        assert await page.locator(BOX).is_visible()
        await page.fill("#windows li:nth-child(2) [name=end]", "13:00")
        assert await page.locator(BOX).is_hidden()

        # Time off ending before it starts.
        await page.click("#add-time-off")
        await page.fill("#time-off li:last-child [name=off_start]", _day(30))
        await page.fill("#time-off li:last-child [name=off_end]", _day(25))
        assert await _save(page) == 422
        text = await _refusal(page)
        # French typography: a (no-break) space before the colon.
        assert "Absence 1 (" in text and "Au\u00a0: doit être après le début" in text, text
        assert await _invalid(page, "#time-off li:last-child [name=off_end]") == ["true"]
        assert await page.input_value("#time-off li:last-child [name=off_start]") == _day(30)
        assert await page.input_value("#time-off li:last-child [name=off_end]") == _day(25)
        await page.fill("#time-off li:last-child [name=off_end]", _day(35))

        # A time zone typed as a city.
        await page.fill("#sp-timezone", "Paris")
        assert await _save(page) == 422
        text = await _refusal(page)
        assert "Fuseau horaire\u00a0: " in text and "fuseau horaire connu" in text, text
        assert "IANA" not in text, text
        assert await page.get_attribute("#sp-timezone", "aria-invalid") == "true"
        assert await page.input_value("#sp-timezone") == "Paris"

        # Put right, it saves: what she typed all along is what is stored.
        await page.fill("#sp-timezone", "Europe/Paris")
        assert await _save(page) == 200
        await page.locator("#status").filter(has_text="Enregistré.").wait_for()
        assert await page.locator(BOX).is_hidden()
        assert await page.eval_on_selector_all("[aria-invalid]", "els => els.length") == 0
        stored = await _profile(base, prog)
        assert stored["availability"] == WINDOWS
        assert len(stored["time_off"]) == 1
        await ctx.close()


async def test_refusals_in_spanish_and_time_off_without_its_last_day(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        await _plain_week(base, prog)
        ctx = await b.new_context(locale="es-AR", timezone_id="America/Argentina/Salta")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), lang="es")
        await page.goto(f"{base}/availability")
        await ready(page, "availability")

        # Time off with its first day only: asked for the last, never "saved".
        await page.click("#add-time-off")
        await page.fill("#time-off li:last-child [name=off_start]", _day(20))
        assert await _save(page) == 422
        text = await _refusal(page)
        assert "Ausencia 1 (" in text and "Hasta: obligatorio" in text, text
        assert "Guardado" not in await page.inner_text("#status")
        assert await _invalid(page, "#time-off li:last-child [name=off_end]") == ["true"]
        assert await page.input_value("#time-off li:last-child [name=off_start]") == _day(20)
        assert (await _profile(base, prog))["time_off"] == []

        # Two windows overlapping on Tuesday: both, by their day and hours.
        await page.fill("#time-off li:last-child [name=off_end]", _day(22))
        await page.click("#add-window")
        await page.select_option("#windows li:nth-child(3) [name=weekday]", "1")
        await page.fill("#windows li:nth-child(3) [name=start]", "10:00")
        await page.fill("#windows li:nth-child(3) [name=end]", "12:00")
        assert await _save(page) == 422
        text = await _refusal(page)
        assert text.startswith("Las franjas de disponibilidad se solapan"), text
        assert "Franja 3 (martes 10:00-12:00)" in text, text
        assert "Franja 2 (martes 09:00-13:00)" in text, text
        assert "se solapa con otra franja del mismo día" in text, text
        row3 = f"#windows li:nth-child(3) :is({ROW_INPUTS})"
        assert await _invalid(page, row3) == ["true", "true", "true"]
        row2 = f"#windows li:nth-child(2) :is({ROW_INPUTS})"
        assert await _invalid(page, row2) == ["true", "true", "true"]
        assert await page.input_value("#windows li:nth-child(3) [name=start]") == "10:00"
        await page.fill("#windows li:nth-child(3) [name=start]", "13:00")
        await page.fill("#windows li:nth-child(3) [name=end]", "15:00")

        # A language that is not a language tag: the field and the tag named.
        await page.fill("#sp-languages", "es, xx_1")
        assert await _save(page) == 422
        text = await _refusal(page)
        assert "Idiomas" in text and "xx_1" in text, text
        assert "no es un nombre ni un código de idioma" in text, text
        assert await page.get_attribute("#sp-languages", "aria-invalid") == "true"
        await page.fill("#sp-languages", "es, fr")

        assert await _save(page) == 200
        await page.locator("#status").filter(has_text="Guardado.").wait_for()
        stored = await _profile(base, prog)
        assert len(stored["time_off"]) == 1
        assert len(stored["availability"]) == 3
        await ctx.close()
