"""The case's assigned specialist adds the interpreter it needs, in a real browser: the page
tells her to add one, and she finds the programme's interpreters in "Who" (the API lets her
add one: she must be able to choose one). A second specialist on the case, who may not add
anyone, is told who can instead of being told to."""

import httpx

from tests.console.support import (
    add_person,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    signed_in,
    status_says,
)


async def _needs_interpreter(c: httpx.AsyncClient, clinician: dict[str, str], ref: str) -> str:
    """A case whose patient speaks Quechua only: it needs an interpreter."""
    r = await c.post(
        "/api/v1/cases",
        headers=clinician,
        json={
            "specialty": "dermatology",
            "urgency": "routine",
            "question": "Itchy rash; the grandmother speaks Quechua only.",
            "patient": {"reference": ref, "age_years": 71, "sex": "female"},
            "languages": ["qu"],
            "interpreter_needed": True,
            "consent": {"obtained": True, "method": "verbal"},
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def test_the_assigned_specialist_adds_the_interpreter_the_case_needs(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            interpreter = await add_person(c, "quispe", "Quispe", "interpreter")
            second = await add_person(c, "novak", "Novak", "specialist")
            case_id = await _needs_interpreter(c, h["clinician"], "HSR-9090")
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            (
                await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            ).raise_for_status()
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["coordinator"],
                json={"user_id": second["id"], "role": "specialist"},
            )
            r.raise_for_status()

        # The second specialist may not add anyone: she is told who can.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, second["email"])
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        needed = page.locator("#people-needed")
        await needed.wait_for()
        said = await needed.inner_text()
        assert ": add one" not in said and "a coordinator can add one" in said, said
        assert await page.locator("#people-form").is_hidden()
        await ctx.close()

        # The assigned specialist is told to add one, and finds her.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        needed = page.locator("#people-needed")
        await needed.wait_for()
        assert "none takes part yet: add one." in await needed.inner_text()
        await page.select_option("#people-role", "interpreter")
        await page.wait_for_selector(
            f"#people-user option[value='{interpreter['id']}']", state="attached"
        )
        assert not await page.locator("#people-form button[type=submit]").is_disabled()
        await page.select_option("#people-user", interpreter["id"])
        await page.click("#people-form button[type=submit]")
        await page.wait_for_selector(f"#people-list li[data-user-id='{interpreter['id']}']")
        assert "Quispe · Interpreter" in await page.inner_text("#people-list")
        await status_says(page, "Quispe (Interpreter) takes part in the case now.")
        await needed.wait_for(state="hidden")
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/participants", headers=h["clinician"])
            r.raise_for_status()
            added = {p["user_id"]: p for p in r.json()["items"]}
            assert added[interpreter["id"]]["added_by_id"] == prog.people["specialist"]["id"]


async def test_with_no_interpreter_in_the_programme_she_is_told_who_can_find_one(app, factory):
    """ "Add one" beside an empty list used to leave her stuck: with nobody to add, she is
    told to ask a coordinator to invite one."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await _needs_interpreter(c, h["clinician"], "HSR-9091")
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            accepted = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            accepted.raise_for_status()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#people-needed:has-text('ask a coordinator')")
        said = await page.inner_text("#people-needed")
        assert "no interpreter is registered in the programme yet" in said, said
        assert ": add one." not in said, said
        assert await page.locator("#people-form button[type=submit]").is_disabled()
        await ctx.close()


async def test_with_no_interpreter_who_speaks_the_language_she_is_told_who_can_find_one(
    app, factory
):
    """A Quechua case, and the programme's one interpreter speaks Aymara and Spanish only:
    "add one" pointed her at a list with nobody fitting and no word of whom to ask."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            await add_person(c, "mamani", "Mamani", "interpreter", languages=["ay", "es"])
            case_id = await _needs_interpreter(c, h["clinician"], "HSR-9092")
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            accepted = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            accepted.raise_for_status()

        page = await (await b.new_context(locale="en-GB")).new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#people-needed:has-text('ask a coordinator')")
        said = await page.inner_text("#people-needed")
        assert "who speaks Quechua" in said and ": add one." not in said, said
        # She may still add the one there is, to relay through Spanish.
        assert await page.locator("#people-form button[type=submit]").is_enabled()
