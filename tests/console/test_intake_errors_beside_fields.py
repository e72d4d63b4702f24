"""On a phone (360 px), what is wrong with the intake is said under the field it is about,
tied to it for a screen reader (aria-invalid, aria-describedby), and gone as soon as she
changes that field: what the form checks itself (the specialty, consent, a question of
spaces only)."""

import json
from pathlib import Path
from typing import Any

from app.core.clock import utcnow
from tests.console.support import ready, seeded_console, signed_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
ES = json.loads((CATALOGUES / "es.json").read_text("utf-8"))


async def message_of(page: Any, field: str) -> Any:
    """The field's own message: the first element its aria-describedby names."""
    described = (await page.get_attribute(field, "aria-describedby") or "").split()
    assert described, f"{field} names no message"
    return page.locator(f"#{described[0]}")


async def just_under(page: Any, field: str, message: Any) -> None:
    f = await page.locator(field).bounding_box()
    m = await message.bounding_box()
    assert f and m and 0 <= m["y"] - (f["y"] + f["height"]) < 40, (field, f, m)
    assert await message.is_visible()


async def test_each_message_stands_under_its_field_and_goes_when_it_is_changed(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.fill("#question", "¿Placa anular en el antebrazo: tiña?")
        await page.fill("#patient-reference", "HSR-3141")
        await page.check("#consent")

        # No specialty: said under it, where the focus goes, not 1,300 px lower.
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#specialty[aria-invalid=true]")
        assert await page.evaluate("document.activeElement.id") == "specialty"
        said = await message_of(page, "#specialty")
        assert await said.inner_text() == ES["intake.specialty_required"]
        await just_under(page, "#specialty", said)
        assert await said.evaluate("(el) => el.getBoundingClientRect().bottom <= innerHeight")
        await page.select_option("#specialty", "dermatology")
        assert await page.get_attribute("#specialty", "aria-invalid") is None
        assert await said.count() == 0
        assert "-field-error" not in (
            await page.get_attribute("#specialty", "aria-describedby") or ""
        )

        # Consent not ticked: under the box.
        await page.uncheck("#consent")
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#consent[aria-invalid=true]")
        said = await message_of(page, "#consent")
        assert await said.inner_text() == ES["intake.consent_required"]
        await just_under(page, "#consent", said)
        await page.check("#consent")
        assert await page.get_attribute("#consent", "aria-invalid") is None
        assert await said.count() == 0

        # A question of spaces only is no question (the service would refuse it too):
        # under the question, in Spanish. (What the service refuses is said the same way:
        # test_intake_every_field_at_once.py.)
        await page.fill("#question", "   ")
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#question[aria-invalid=true]")
        said = await message_of(page, "#question")
        assert await said.inner_text() == ES["intake.question_required"]
        await just_under(page, "#question", said)
        assert await page.evaluate("document.activeElement.id") == "question"
        # The summary at the top names it; the reasons are by their fields, not by the button.
        assert ES["field.question"] in await page.inner_text("#case-problems")
        assert ES["intake.question_required"] not in await page.inner_text("#case-problems")
        assert await page.locator("#case-error").is_hidden()
        # Corrected: the red border, the message and the summary go as she types.
        await page.fill("#question", "¿Placa anular en el antebrazo: tiña?")
        assert await page.get_attribute("#question", "aria-invalid") is None
        assert await said.count() == 0
        assert await page.locator("#case-problems").is_hidden()
        assert await page.locator("#case-error").is_hidden()
        await ctx.close()
