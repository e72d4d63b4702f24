"""A specialist's offers, in a real browser whose clock is pinned: when an offer expires is
said against now ("in 9 minutes", said again each minute, "expired" once past) with the time
in her own zone, named, and the clinic's local time is labelled as the clinic's; each card
says the case's question and when it was submitted (never the patient's reference), and the
facility line arriving late on a slow phone does not move Accept and Decline."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.console.support import bearers, pending_offer, ready, seeded_console, signed_in

QUESTION = (
    "Sudden blistering rash over the trunk and mouth ulcers since this morning after a new "
    "antiepileptic: Stevens-Johnson syndrome? Transfer or treat here with what we have?"
)


async def _emergency(c: httpx.AsyncClient, headers: dict[str, str], question: str) -> str:
    r = await c.post(
        "/api/v1/cases",
        headers=headers,
        json={
            "specialty": "dermatology",
            "urgency": "emergency",
            "question": question,
            "summary": "Febrile, 38.9. Mucosa involved.",
            "patient": {"reference": "HSR-7781", "age_years": 34, "sex": "female"},
            "languages": ["es"],
            "interpreter_needed": False,
            "consent": {"obtained": True, "method": "verbal"},
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def _offer(base: str, prog: Any, question: str = QUESTION) -> tuple[str, str, datetime]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician", "specialist", "coordinator")
        case_id = await _emergency(c, h["clinician"], question)
        offer_id = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
        r = await c.get(f"/api/v1/offers/{offer_id}", headers=h["specialist"])
        r.raise_for_status()
    return case_id, offer_id, datetime.fromisoformat(r.json()["expires_at"])


async def test_an_offer_says_how_long_it_has_left_in_her_zone(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case_id, offer_id, expires = await _offer(base, prog)
        ctx = await b.new_context(locale="en-GB", timezone_id="Asia/Kolkata")
        await ctx.clock.set_fixed_time(expires - timedelta(minutes=9))
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        card = page.locator(f"[data-offer-id='{offer_id}']")
        await card.wait_for()
        expiry = card.locator(".offer-expiry")
        said = await expiry.inner_text()
        assert "in 9 minutes" in said, said
        assert "your time" in said and "India Standard Time" in said, said
        await card.locator(".facility:not(:empty)").wait_for()
        facility = await card.locator(".facility").inner_text()
        assert "Clinic's local time" in facility and "Salta" in facility, facility

        # A minute on, said again; once past, "expired".
        await ctx.clock.set_fixed_time(expires - timedelta(minutes=8))
        await ctx.clock.run_for(60_000)
        await page.wait_for_function(
            "(id) => document.querySelector(`[data-offer-id='${id}'] .offer-expiry`)"
            ".textContent.includes('in 8 minutes')",
            arg=offer_id,
        )
        await ctx.clock.set_fixed_time(expires + timedelta(seconds=5))
        await ctx.clock.run_for(60_000)
        await page.wait_for_function(
            "(id) => document.querySelector(`[data-offer-id='${id}'] .offer-expiry`)"
            ".textContent.includes('expired')",
            arg=offer_id,
        )

        # The offered case's own page says it the same way.
        await ctx.clock.set_fixed_time(expires - timedelta(minutes=5))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#offer:not([hidden])")
        said = await page.inner_text("#offer-expiry")
        assert "in 5 minutes" in said and "India Standard Time" in said, said
        await page.wait_for_selector("#facility:not([hidden])")
        assert "Clinic's local time" in await page.inner_text("#facility")


async def test_offer_cards_say_the_question_and_keep_their_buttons_still(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        _, offer_id, _ = await _offer(base, prog)
        ctx = await b.new_context(
            locale="en-GB", timezone_id="Europe/London", viewport={"width": 360, "height": 740}
        )
        from app.core.clock import utcnow

        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        # A slow phone: the facility's line comes when the test lets it.
        release = asyncio.Event()

        async def held(route: Any) -> None:
            await release.wait()
            await route.continue_()

        await page.route("**/api/v1/organizations/**", held)
        await page.goto(f"{base}/inbox")
        await ready(page, "inbox")
        card = page.locator(f"[data-offer-id='{offer_id}']")
        await card.wait_for()
        text = await card.inner_text()
        assert QUESTION[:100] in text, text
        assert QUESTION not in text  # the first 140 characters or so
        assert "HSR-7781" not in text
        assert "Submitted" in text, text
        accept = card.locator("button.accept")
        before = await accept.bounding_box()
        release.set()
        await card.locator(".facility:not(:empty)").wait_for()
        await page.wait_for_function(
            "(id) => document.querySelector(`[data-offer-id='${id}'] .facility`)"
            ".textContent.includes('Hospital San Roque')",
            arg=offer_id,
        )
        after = await accept.bounding_box()
        assert before is not None and after is not None
        assert abs(after["y"] - before["y"]) < 1, (before, after)
