"""Interpreters' languages in a real browser. The case page's picker used to list the
programme's interpreters by name alone: nothing said who speaks the case's language, and
adding one who does not was silent. Now each is shown with her languages, those who speak
one of the case's come first, and choosing one who does not is said plainly before she is
added (a warning: the coordinator may know better, and adding still works). People lets a
coordinator set an interpreter's languages, and the interpreter sets her own in her profile."""

import httpx

from tests.console.support import (
    add_person,
    axe_violations,
    bearers,
    ready,
    seeded_console,
    signed_in,
)


async def _needs_quechua(c: httpx.AsyncClient, clinician: dict[str, str]) -> str:
    r = await c.post(
        "/api/v1/cases",
        headers=clinician,
        json={
            "specialty": "dermatology",
            "urgency": "routine",
            "question": "Itchy rash; the grandmother speaks Quechua only.",
            "patient": {"reference": "HSR-7070", "age_years": 68, "sex": "female"},
            "languages": ["qu"],
            "interpreter_needed": True,
            "consent": {"obtained": True, "method": "verbal"},
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def test_the_picker_puts_speakers_first_and_warns_of_one_who_is_not(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator")
            diallo = await add_person(
                c, "diallo", "Amadou Diallo", "interpreter", languages=["fr", "wo"]
            )
            unknown = await add_person(c, "lee", "Min Lee", "interpreter")
            # Registered last and last by name: the picker lists her first all the same.
            quispe = await add_person(
                c, "quispe", "Rosa Quispe", "interpreter", languages=["qu", "es"]
            )
            case_id = await _needs_quechua(c, h["clinician"])

        ctx = await b.new_context(locale="en-GB")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#people-form:not([hidden])")
        picker = page.locator("#people-user")
        await page.wait_for_selector(
            f"#people-user option[value='{quispe['id']}']", state="attached"
        )
        # The speaker first, in a group that says so; the others after, each with her languages.
        groups = await picker.evaluate(
            "(s) => [...s.querySelectorAll('optgroup')].map((g) => [g.label,"
            " [...g.querySelectorAll('option')].map((o) => [o.value, o.textContent])])"
        )
        assert groups == [
            ["Speaking Quechua", [[quispe["id"], "Rosa Quispe · Quechua, Spanish"]]],
            [
                "Other interpreters",
                [
                    [diallo["id"], "Amadou Diallo · French, Wolof"],
                    [unknown["id"], "Min Lee · no languages on file"],
                ],
            ],
        ], groups
        assert await picker.input_value() == quispe["id"]
        warning = page.locator("#people-language")
        assert await warning.is_hidden()

        # One with no languages on file: she is asked to check.
        await picker.select_option(unknown["id"])
        await warning.wait_for()
        said = await warning.inner_text()
        assert "Min Lee has no languages on file" in said and "Quechua" in said, said
        # One who speaks others: said plainly, before adding, and adding is not refused.
        await picker.select_option(diallo["id"])
        await page.wait_for_selector("#people-language:has-text('Amadou Diallo')")
        said = await warning.inner_text()
        assert "Amadou Diallo speaks none of this case's languages (Quechua)" in said, said
        assert "French, Wolof" in said and "You can still add them" in said, said
        assert await picker.get_attribute("aria-describedby") == "people-language"
        assert await axe_violations(page) == []
        assert not await page.locator("#people-form button[type=submit]").is_disabled()
        await page.click("#people-form button[type=submit]")
        await page.wait_for_selector(f"#people-list li[data-user-id='{diallo['id']}']")
        assert "Amadou Diallo · Interpreter" in await page.inner_text("#people-list")
        # Redrawn: she is no longer offered, the speaker is chosen again, no warning.
        await page.wait_for_selector(
            f"#people-user option[value='{diallo['id']}']", state="detached"
        )
        assert await picker.input_value() == quispe["id"]
        assert await warning.is_hidden()
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/participants", headers=h["coordinator"])
            assert [p["user_id"] for p in r.json()["items"]] == [diallo["id"]]


async def test_a_coordinator_sets_an_interpreters_languages_and_she_sets_her_own(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            rosa = await add_person(c, "quispe", "Rosa Quispe", "interpreter")

        # People: the coordinator sees her languages and changes them.
        ctx = await b.new_context(locale="en-GB")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/admin/users")
        await ready(page, "users")
        row = page.locator(f"#user-table tr[data-user-id='{rosa['id']}']")
        await row.wait_for()
        assert "no languages on file" in await row.inner_text()
        # Nobody else's languages are offered to change here: an interpreter's only.
        clinician_row = page.locator(
            f"#user-table tr[data-user-id='{prog.people['clinician']['id']}']"
        )
        assert await clinician_row.get_by_role("button", name="Edit languages").count() == 0
        await row.get_by_role("button", name="Edit languages").click()
        field = row.get_by_label("Languages")
        await field.fill("qu, not a tag")
        await row.get_by_role("button", name="Save").click()
        problem = row.locator(".error:not([hidden])")
        await problem.wait_for()
        assert "not a language name or code we know" in await problem.inner_text()
        await field.fill("qu, ES, ay")
        await row.get_by_role("button", name="Save").click()
        await row.locator("td", has_text="Quechua, Spanish, Aymara").wait_for()
        await ctx.close()

        # Her profile: she reads them and sets her own.
        ctx = await b.new_context(locale="en-GB")
        page = await ctx.new_page()
        await signed_in(page, base, rosa["email"])
        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        field = page.locator("#my-languages")
        await field.wait_for()
        assert await field.input_value() == "qu, es, ay"
        await field.fill("qu, es")
        await page.click("#languages-form button[type=submit]")
        await page.wait_for_selector("#status:has-text('Your languages are saved')")
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.get(f"/api/v1/users/{rosa['id']}", headers=h["coordinator"])
            assert r.json()["languages"] == ["qu", "es"]
