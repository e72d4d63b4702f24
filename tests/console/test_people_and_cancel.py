"""The people on a case and what the coordinator and the facility do with them, in a real
browser: an interpreter added where the case asks for one (named in the list), candidates
already offered the case not offered again, reasons in words, an offer to nobody said as
such, and a case sent by mistake cancelled by its facility."""

import httpx

from tests.console.support import (
    add_person,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    signed_in,
    submit_case,
)


async def test_people_on_a_case_offers_and_a_cancelled_case(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist_id = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            interpreter = await add_person(c, "quispe", "Quispe", "interpreter")
            unverified = await add_person(c, "novak", "Novak", "specialist")
            r = await c.put(
                f"/api/v1/specialists/{unverified['id']}/profile",
                headers=h["coordinator"],
                json={
                    "specialties": ["dermatology"],
                    "languages": ["es"],
                    "timezone": "UTC",
                    "availability": [],
                    "time_off": [],
                    "max_active_cases": 5,
                    "accepting": True,
                    "verified": False,
                },
            )
            r.raise_for_status()
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "Itchy rash; the mother speaks Quechua only.",
                    "patient": {"reference": "HSR-8080", "age_years": 6, "sex": "female"},
                    "languages": ["qu"],
                    "interpreter_needed": True,
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            needs = r.json()["id"]
            offer = await pending_offer(c, h, needs, specialist_id)
            mistaken = await submit_case(c, h["clinician"], "Sent by mistake: wrong patient")

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{needs}")
        await ready(page, "case")
        # Offered already: shown, not offered again; the unverified one is excluded, in words.
        box = page.locator(f"#candidate-table input[value='{specialist_id}']")
        await box.wait_for()
        assert await box.is_disabled()
        await page.click("#candidates details summary")
        assert "Novak: not verified yet" in await page.inner_text("#excluded-list")
        await page.click("#offer-auto")
        await page.wait_for_selector("#status:has-text('Nobody was left to offer it to')")
        await ctx.close()

        # She accepts; the case needs an interpreter: the coordinator adds one.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            r.raise_for_status()
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{needs}")
        await ready(page, "case")
        await page.wait_for_selector("#people-needed:not([hidden])")
        await page.select_option("#people-role", "interpreter")
        await page.wait_for_selector(
            f"#people-user option[value='{interpreter['id']}']", state="attached"
        )
        await page.select_option("#people-user", interpreter["id"])
        await page.click("#people-form button[type=submit]")
        await page.wait_for_selector(f"#people-list li[data-user-id='{interpreter['id']}']")
        assert "Quispe · Interpreter" in await page.inner_text("#people-list")
        assert await page.locator("#people-needed").is_hidden()
        # The record says who was offered the case and who joined it, by name.
        joined = page.locator("#record-list li[data-type=participant]")
        await joined.locator(".record-who", has_text="Quispe").wait_for()
        assert "Added to the case · Quispe · Interpreter" in await joined.inner_text()
        offered = page.locator("#record-list li[data-type=offer]")
        await offered.locator(".record-who", has_text=prog.people["specialist"]["name"]).wait_for()
        await ctx.close()

        # The facility cancels the case it sent by mistake, saying why.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{mistaken}")
        await ready(page, "case")
        await page.fill("#cancel-reason", "Wrong patient chosen")
        page.once("dialog", lambda d: d.accept())
        await page.click("#cancel-form button[type=submit]")
        await page.wait_for_selector("#case-status.status-cancelled")
        assert await page.locator("#cancel").is_hidden()
        # Its live room ends with it: what was said stays to read, with nothing to write in.
        await page.locator("#link-state", has_text="Read only: the case was cancelled").wait_for()
        assert await page.locator("#message-form").is_hidden()
        # The pill is said before the conversation is read back: wait for what is read.
        await page.locator("#messages li", has_text="Nothing was written here.").wait_for()
        assert await page.inner_text("#messages") == "Nothing was written here."
        assert await page.locator("#call").is_hidden()
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{needs}/participants", headers=h["coordinator"])
            assert [(p["user_id"], p["role"]) for p in r.json()["items"]] == [
                (interpreter["id"], "interpreter")
            ]
            r = await c.get(f"/api/v1/cases/{mistaken}", headers=h["clinician"])
            assert (r.json()["status"], r.json()["cancel_reason"]) == (
                "cancelled",
                "Wrong patient chosen",
            )
