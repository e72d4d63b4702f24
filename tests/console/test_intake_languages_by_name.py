"""A clinician names the patient's languages as she would say them ("Nepali, English", or
"quechua, Español" in the Spanish console): the form takes them as the codes the service
keeps, and says under the field which languages it understood. A name no one knows is
marked, and nothing is sent. In a real browser. (She was told "Nepali" was "not a language
code (like es, fr or pt-BR)".)"""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in

SUBMIT = "#case-form button[type=submit]"


async def _new_case_page(b, base, prog, locale, lang):
    page = await (
        await b.new_context(locale=locale, viewport={"width": 360, "height": 740})
    ).new_page()
    await signed_in(page, base, prog.email("clinician"), lang=lang)
    await page.goto(f"{base}/cases/new")
    await ready(page, "case_new")
    return page


async def _fill(page, question, languages):
    await page.select_option("#specialty", "dermatology")
    await page.fill("#question", question)
    await page.fill("#patient-reference", "KHC-7781")
    await page.fill("#languages", languages)
    await page.check("#consent")


async def test_languages_typed_by_name_are_sent_as_codes(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await _new_case_page(b, base, prog, "en-GB", "en")
        await _fill(page, "Palpitations for two months; anticoagulate?", "Nepali, english")
        await page.press("#languages", "Tab")
        assert await page.input_value("#languages") == "ne, en"
        assert await page.inner_text("#languages-understood") == "Nepali, English"
        await page.click(SUBMIT)
        await ready(page, "case")

        # Codes the browser has no name for are codes all the same (Luo, in Kenya), and
        # names it lacks are known too.
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await _fill(page, "Cough for three weeks; TB work-up here?", "sw, luo, Kalenjin, Ewe")
        await page.press("#languages", "Tab")
        assert await page.input_value("#languages") == "sw, luo, kln, ee"
        assert await page.inner_text("#languages-understood") == "Swahili, Luo, Kalenjin, Ewe"
        await page.click(SUBMIT)
        await ready(page, "case")

        es = await _new_case_page(b, base, prog, "es-AR", "es")
        # Sent without leaving the field first: taken all the same.
        await _fill(es, "¿Placas anulares: tiña o psoriasis?", "quechua, Español")
        await es.click(SUBMIT)
        await ready(es, "case")

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            items = (await c.get("/api/v1/cases", headers=h["clinician"])).json()["items"]
        by_question = {i["question"]: i["languages"] for i in items}
        assert by_question == {
            "Palpitations for two months; anticoagulate?": ["ne", "en"],
            "Cough for three weeks; TB work-up here?": ["sw", "luo", "kln", "ee"],
            "¿Placas anulares: tiña o psoriasis?": ["qu", "es"],
        }


async def test_a_language_no_one_knows_is_marked_and_nothing_is_sent(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await _new_case_page(b, base, prog, "en-GB", "en")
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        await _fill(page, "Rash on both forearms?", "Nepali, Klingonish")
        await page.click(SUBMIT)
        await page.wait_for_selector("#languages[aria-invalid=true]")
        described = (await page.get_attribute("#languages", "aria-describedby") or "").split()
        said = await page.inner_text(f"#{described[0]}")
        assert "Klingonish" in said and "Nepali" in said, said  # "like Nepali, ne or pt-BR"
        assert await page.input_value("#languages") == "ne, Klingonish"
        assert not [u for u in sent if "/api/v1/cases" in u]
