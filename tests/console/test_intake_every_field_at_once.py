"""An intake sent with several fields missing or wrong marks every one of them at once, over
a slow link never one per round trip: each with its own message under it, the first one
focused, and a summary at the top of the form saying how many need attention and which.
The same whether the form finds them itself or the service refuses the case with several
`errors` (a problem+json 422). Nothing she typed is lost."""

import json
from pathlib import Path
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import axe_violations, bearers, ready, seeded_console, signed_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"


def catalogue(lang: str) -> dict[str, str]:
    return {
        **json.loads((CATALOGUES / "en.json").read_text("utf-8")),
        **json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8")),
    }


ES = catalogue("es")
EN = catalogue("en")
SUBMIT = "#case-form button[type=submit]"
DRAFT = """() => {
  const k = Object.keys(localStorage).find((k) => /^console:case-draft:[^:]+$/.test(k));
  return k ? JSON.parse(localStorage[k]) : null;
}"""


async def message_of(page: Any, field: str) -> str:
    """The field's own message: the first element its aria-describedby names."""
    described = (await page.get_attribute(field, "aria-describedby") or "").split()
    assert described and described[0].endswith("-field-error"), (field, described)
    said = page.locator(f"#{described[0]}")
    assert await said.is_visible(), field
    return str(await said.inner_text())


async def label_of(page: Any, field: str) -> str:
    return str(await page.inner_text(f"label[for={field.lstrip('#')}]"))


async def marked(page: Any) -> list[str]:
    return list(
        await page.eval_on_selector_all(
            "#case-form [aria-invalid=true]", "(els) => els.map((el) => el.id)"
        )
    )


async def cases_of(base: str, prog: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician")
        r = await c.get("/api/v1/cases", headers=h["clinician"])
        r.raise_for_status()
        return list(r.json()["items"])


def posts_to_cases(page: Any) -> list[str]:
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/api/v1/cases" in r.url else None,
    )
    return sent


async def test_an_empty_intake_marks_every_missing_field_at_once(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        sent = posts_to_cases(page)

        # She writes the history, an age out of range and a language code that is none;
        # the specialty, the question, the reference and the consent are left out.
        history = "Placa anular de 3 semanas en el antebrazo, pruriginosa."
        await page.fill("#summary", history)
        await page.fill("#patient-age", "200")
        await page.fill("#languages", "es, qu_x")
        await page.click(SUBMIT)
        await page.wait_for_selector("#case-problems:not([hidden])")

        # Every one marked at once, each with its own message under it.
        fields = [
            "#specialty",
            "#question",
            "#patient-reference",
            "#patient-age",
            "#languages",
            "#consent",
        ]
        assert await marked(page) == [f.lstrip("#") for f in fields]
        assert await message_of(page, "#specialty") == ES["intake.specialty_required"]
        assert await message_of(page, "#question") == ES["intake.question_required"]
        assert await message_of(page, "#patient-reference") == ES["intake.reference_required"]
        assert await message_of(page, "#patient-age") == ES["invalid.less_than_equal"].replace(
            "{limit}", "130"
        )
        item = ES["error.list_item"].format(field=await label_of(page, "#languages"), item="qu_x")
        assert await message_of(page, "#languages") == f"{item}: {ES['invalid.language_tag']}"
        assert await message_of(page, "#consent") == ES["intake.consent_required"]
        ids = set()
        for f in fields:
            ids.add((await page.get_attribute(f, "aria-describedby") or "").split()[0])
        assert len(ids) == len(fields)

        # The first is focused; the summary at the top says how many, and which.
        assert await page.evaluate("document.activeElement.id") == "specialty"
        summary = page.locator("#case-problems")
        said = await summary.inner_text()
        assert ES["intake.problems_other"].replace("{count}", "6") in said, said
        for f in fields:
            assert (await label_of(page, f)) in said, (f, said)
        top = await summary.bounding_box()
        first = await page.locator("#specialty").bounding_box()
        assert top and first and top["y"] < first["y"]
        assert await axe_violations(page) == []
        # Nothing sent, nothing lost.
        assert sent == []
        assert await cases_of(base, prog) == []
        assert await page.input_value("#summary") == history
        assert await page.input_value("#patient-age") == "200"
        assert await page.input_value("#languages") == "es, qu_x"

        # A field put right loses its mark, and the summary counts one fewer.
        await page.fill("#question", "¿Tiña o eccema numular?")
        assert await page.get_attribute("#question", "aria-invalid") is None
        await page.wait_for_function(
            "(t) => document.getElementById('case-problems').textContent.includes(t)",
            arg=ES["intake.problems_other"].replace("{count}", "5"),
        )
        # The summary's names lead to their fields.
        await summary.get_by_text(await label_of(page, "#consent")).click()
        assert await page.evaluate("document.activeElement.id") == "consent"

        # All put right: the summary goes, and the case is sent with what she typed.
        await page.select_option("#specialty", "dermatology")
        await page.fill("#patient-reference", "HSR-3141")
        await page.fill("#patient-age", "52")
        await page.fill("#languages", "es, qu")
        await page.check("#consent")
        assert await marked(page) == []
        assert await summary.is_hidden()
        await page.click(SUBMIT)
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        [made] = await cases_of(base, prog)
        assert made["question"] == "¿Tiña o eccema numular?"
        assert errors == []
        await ctx.close()


async def test_every_reason_the_service_gives_is_marked_at_once(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        # What the service answers to a case with three fields wrong: its own words.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "   ",
                    "summary": "",
                    "patient": {"reference": "  ", "age_years": 131, "sex": None},
                    "languages": [],
                    "interpreter_needed": False,
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
        assert r.status_code == 422, r.text
        refusal = r.json()
        pointers = sorted(e["pointer"] for e in refusal["errors"])
        assert pointers == ["/patient/age_years", "/patient/reference", "/question"], pointers

        ctx = await b.new_context(locale="en-GB", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")

        # The service refuses what the form let through (the form and the service may
        # disagree, as after an update of one of them): it says so of three fields at once.
        async def refuse(route: Any) -> None:
            if route.request.method != "POST":
                await route.continue_()
                return
            await route.fulfill(
                status=422,
                headers={"Content-Type": "application/problem+json"},
                body=json.dumps(refusal),
            )

        await page.route("**/api/v1/cases", refuse)
        await page.select_option("#specialty", "dermatology")
        await page.fill("#question", "Annular plaque on the forearm: tinea?")
        await page.fill("#patient-reference", "HSR-3141")
        await page.fill("#patient-age", "52")
        await page.check("#consent")
        await page.click(SUBMIT)
        await page.wait_for_selector("#case-problems:not([hidden])")

        assert await marked(page) == ["question", "patient-reference", "patient-age"]
        assert await message_of(page, "#question") == EN["invalid.string_too_short"].replace(
            "{limit}", "1"
        )
        assert await message_of(page, "#patient-reference") == EN[
            "invalid.string_too_short"
        ].replace("{limit}", "1")
        assert await message_of(page, "#patient-age") == EN["invalid.less_than_equal"].replace(
            "{limit}", "130"
        )
        assert await page.evaluate("document.activeElement.id") == "question"
        said = await page.inner_text("#case-problems")
        assert EN["intake.problems_other"].replace("{count}", "3") in said, said
        for f in ("#question", "#patient-reference", "#patient-age"):
            assert (await label_of(page, f)) in said, (f, said)
        # Every reason is by its field: nothing left to say by the button.
        assert await page.locator("#case-error").is_hidden()
        # What she typed is still there, and kept with the draft.
        assert await page.input_value("#question") == "Annular plaque on the forearm: tinea?"
        assert await page.input_value("#patient-reference") == "HSR-3141"
        draft = await page.evaluate(DRAFT)
        assert draft["fields"]["question"] == "Annular plaque on the forearm: tinea?"
        assert len(draft["refused"]["problem"]["errors"]) == 3

        # Opened again later: the three reasons are there again, all of them.
        await page.reload()
        await ready(page, "case_new")
        await page.wait_for_selector("#case-problems:not([hidden])")
        assert await marked(page) == ["question", "patient-reference", "patient-age"]

        # The service takes it now: sent as she left it.
        await page.unroute("**/api/v1/cases", refuse)
        await page.click(SUBMIT)
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        [made] = await cases_of(base, prog)
        assert made["question"] == "Annular plaque on the forearm: tinea?"
        await ctx.close()
