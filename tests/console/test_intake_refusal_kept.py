"""A case the service refuses after it waited on the device (the link was down when she
pressed send) keeps the service's reason with the draft, in the browser's storage: a notice
on every page she opens says so until she acts on it (not a passing status line), and the
intake, when she opens it, shows the reason beside the field it is about, in Spanish."""

import json
from pathlib import Path
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
ES = json.loads((CATALOGUES / "es.json").read_text("utf-8"))
DRAFT = """() => {
  const k = Object.keys(localStorage).find((k) => /^console:case-draft:[^:]+$/.test(k));
  return k ? JSON.parse(localStorage[k]) : null;
}"""


async def spanish_context(b: Any) -> Any:
    ctx = await b.new_context(
        locale="es-AR",
        timezone_id="America/Argentina/Salta",
        viewport={"width": 360, "height": 740},
    )
    await ctx.clock.set_fixed_time(utcnow())
    return ctx


async def cases_of(base: str, prog: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician")
        r = await c.get("/api/v1/cases", headers=h["clinician"])
        r.raise_for_status()
        return list(r.json()["items"])


async def test_a_case_refused_after_waiting_offline_keeps_its_reason(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await spanish_context(b)
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.select_option("#specialty", "dermatology")
        await page.fill("#patient-reference", "HSR-5120")
        await page.check("#consent")
        # The form finds nothing wrong (a question of spaces only it refuses itself now).
        await page.fill("#question", "¿Tiña?")

        await ctx.set_offline(True)
        await page.click("#case-form button[type=submit]")
        await page.locator("#draft-state").filter(has_text=ES["intake.waiting_for_link"]).wait_for()
        await page.close()  # she closes the tab while the link is down

        # The link returns and the service refuses the question: played by its own answer
        # to a question it finds too short (its rules and the form's may differ, as after
        # an update of either), given to every page of the context until she sends again.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "   ",
                    "patient": {"reference": "HSR-5120"},
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
        assert r.status_code == 422, r.text
        refusal = r.text

        async def refuse(route: Any) -> None:
            if route.request.method != "POST":
                await route.continue_()
                return
            await route.fulfill(
                status=422, headers={"Content-Type": "application/problem+json"}, body=refusal
            )

        await ctx.route("**/api/v1/cases", refuse)
        await ctx.set_offline(False)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        notice = page.locator("#case-refused")
        await notice.wait_for()
        assert ES["intake.refused_later"] in await notice.inner_text()
        # Kept with the draft on the device: the refusal itself, not only "not pending".
        draft = await page.evaluate(DRAFT)
        assert draft["pending"] is False
        assert draft["refused"]["problem"]["errors"][0]["pointer"] == "/question"
        assert await cases_of(base, prog) == []

        # Not the passing status line: it is there again on the next page she opens.
        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        await notice.wait_for()
        assert ES["intake.refused_later"] in await notice.inner_text()

        # She acts on it: the intake shows the reason beside the question.
        await notice.locator("a").click()
        await ready(page, "case_new")
        await notice.wait_for(state="detached")
        assert await page.inner_text("#draft-state") == ES["intake.refused_kept"]
        assert await page.get_attribute("#question", "aria-invalid") == "true"
        described = (await page.get_attribute("#question", "aria-describedby") or "").split()
        assert described, "the question's message is not tied to it"
        why = page.locator(f"#{described[0]}")
        reason = ES["invalid.string_too_short"].replace("{limit}", "1")
        assert await why.inner_text() == reason
        # Beside it: just under the question, not at the foot of the form.
        q = await page.locator("#question").bounding_box()
        w = await why.bounding_box()
        assert q and w and 0 <= w["y"] - (q["y"] + q["height"]) < 40, (q, w)
        assert await page.input_value("#question") == "¿Tiña?"  # what she typed, kept

        # Put right, the mark goes as she types, and the case is sent once.
        await page.fill("#question", "¿Placa anular en el antebrazo: tiña?")
        assert await page.get_attribute("#question", "aria-invalid") is None
        assert await why.count() == 0
        await ctx.unroute("**/api/v1/cases", refuse)  # the service takes it now
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        made = await cases_of(base, prog)
        assert [c["question"] for c in made] == ["¿Placa anular en el antebrazo: tiña?"]
        assert await page.evaluate(DRAFT) is None
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        assert await notice.count() == 0
        assert errors == []
        await ctx.close()
