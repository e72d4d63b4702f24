"""Care goes on after the answer, in a real browser: from an answered case the facility's
clinician asks again about the same patient. The new case carries the patient over and
names the earlier one (`follow_up_of`), so matching prefers the specialist who answered it;
a draft already in progress is never overwritten."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_the_facility_asks_again_about_the_patient_of_an_answered_case(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        earlier = await factory.make_case(
            prog.org["id"],
            status="answered",
            question="Annular plaque on the forearm: tinea?",
            patient_reference="HSR-5120",
            patient_age_years=34,
            patient_sex="female",
            languages=["es", "qu"],
            submitted_by_id=prog.people["clinician"]["id"],
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{earlier.id}")
        await ready(page, "case")
        await page.click("#ask-again-link")
        await ready(page, "case_new")
        await page.wait_for_selector("#follow-up a")
        assert await page.inner_text("#follow-up a") == earlier.question
        assert await page.locator("#draft-state").is_hidden()  # nothing was restored
        carried = {
            sel: await page.input_value(sel)
            for sel in ("#specialty", "#patient-reference", "#patient-age", "#patient-sex")
        }
        assert carried == {
            "#specialty": earlier.specialty,
            "#patient-reference": "HSR-5120",
            "#patient-age": "34",
            "#patient-sex": "female",
        }
        assert await page.input_value("#languages") == "es, qu"
        # Consent is asked again: it was given for the earlier question, not this one.
        assert not await page.is_checked("#consent")
        await page.fill("#question", "The plaque came back after the cream: what next?")
        await page.check("#consent")
        await page.click("#case-form button[type=submit]")
        # The summary is left empty: it is optional, and goes as an empty text.
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        new_id = page.url.rsplit("/", 1)[1]
        assert new_id != earlier.id
        # The new case names the earlier one, and links to it.
        link = page.locator("#case-facts a", has_text="the earlier case")
        assert await link.get_attribute("href") == f"/cases/{earlier.id}"
        assert await page.locator("#ask-again").is_hidden()  # only once it is answered

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(f"/api/v1/cases/{new_id}", headers=h["clinician"])
            r.raise_for_status()
            case = r.json()
        assert case["follow_up_of"] == earlier.id
        assert case["patient"]["reference"] == "HSR-5120"
        assert case["question"] == "The plaque came back after the cream: what next?"

        # A draft in progress stays as it was typed: asked to send or discard it first.
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.fill("#question", "Another patient's question, half typed")
        await page.fill("#patient-reference", "HSR-9999")
        # Kept on the device once typing pauses (the page's own debounce): wait until it is.
        await page.wait_for_function("() => JSON.stringify(localStorage).includes('HSR-9999')")
        await page.goto(f"{base}/cases/new?follow_up_of={earlier.id}")
        await ready(page, "case_new")
        assert await page.input_value("#patient-reference") == "HSR-9999"
        assert await page.input_value("#question") == "Another patient's question, half typed"
        assert "draft is in progress" in await page.inner_text("#follow-up")
        await page.click("#discard")
        await page.wait_for_selector("#follow-up a")
        assert await page.input_value("#patient-reference") == "HSR-5120"
        assert await page.input_value("#question") == ""

        # That follow-up's draft, found again on a plain new case, says what it is; once
        # discarded, the next case is no follow-up of anything.
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.wait_for_selector("#follow-up a")
        assert await page.input_value("#follow-up-of") == earlier.id
        assert await page.inner_text("#draft-state") == "Your draft was restored from this device."
        await page.click("#discard")
        await page.wait_for_selector("#follow-up", state="hidden")
        assert await page.input_value("#follow-up-of") == ""
        await page.fill("#question", "Itchy papules between the fingers?")
        await page.fill("#patient-reference", "HSR-7777")
        await page.select_option("#specialty", "dermatology")
        await page.check("#consent")
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url(lambda url: url.rsplit("/", 1)[1] not in ("new", new_id))
        await ready(page, "case")
        other = page.url.rsplit("/", 1)[1]
        # A closed case takes nothing more: its attachments show, no form to add one.
        closed = await factory.make_case(
            prog.org["id"],
            status="closed",
            submitted_by_id=prog.people["clinician"]["id"],
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        await page.goto(f"{base}/cases/{closed.id}")
        await ready(page, "case")
        assert await page.locator("#attachments").is_visible()
        assert await page.locator("#attach-form").is_hidden()
        await ctx.close()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(f"/api/v1/cases/{other}", headers=h["clinician"])
            r.raise_for_status()
        assert r.json()["follow_up_of"] is None
        assert r.json()["patient"]["reference"] == "HSR-7777"
