"""An offer's notification link (/offers/{id}) says what became of the offer, in a real
browser, when it is no longer waiting: she accepted it (a link opens the case), another
specialist took the case first (thanks, and nothing of a case she may no longer see), she
declined it, it expired, or the facility cancelled the case. Not "No offers waiting." alone."""

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from app.core.db import unit_of_work
from app.matching.jobs import expire_due
from tests.console.support import (
    add_person,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    signed_in,
    submit_case,
    token,
)


async def _colleague(c: httpx.AsyncClient, coordinator: dict[str, str]) -> dict[str, Any]:
    """A second verified dermatologist, who can take a case first."""
    colleague = dict(await add_person(c, "kamau", "Dr Wanjiru Kamau", "specialist"))
    r = await c.put(
        f"/api/v1/specialists/{colleague['id']}/profile",
        headers=coordinator,
        json={
            "specialties": ["dermatology"],
            "languages": ["es"],
            "timezone": "UTC",
            "availability": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
            "time_off": [],
            "max_active_cases": 5,
            "accepting": True,
            "verified": True,
        },
    )
    r.raise_for_status()
    colleague["headers"] = {"Authorization": f"Bearer {await token(c, colleague['email'])}"}
    return colleague


async def _offer_to_both(
    c: httpx.AsyncClient, h: dict[str, dict[str, str]], case: str, ids: list[str]
) -> dict[str, str]:
    r = await c.post(
        f"/api/v1/cases/{case}/offers", headers=h["coordinator"], json={"specialist_ids": ids}
    )
    r.raise_for_status()
    return {o["specialist_id"]: o["id"] for o in r.json()["items"]}


async def test_an_offer_link_says_what_became_of_the_offer(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        me = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            colleague = await _colleague(c, h["coordinator"])
            # Taken by a colleague first: her offer is withdrawn.
            elsewhere = await submit_case(c, h["clinician"], "Target lesions on the palms?")
            both = await _offer_to_both(c, h, elsewhere, [me, colleague["id"]])
            r = await c.post(
                f"/api/v1/offers/{both[colleague['id']]}/accept", headers=colleague["headers"]
            )
            r.raise_for_status()
            withdrawn = both[me]
            # Accepted by her.
            mine = await submit_case(c, h["clinician"], "Annular plaques on the forearm?")
            accepted = await pending_offer(c, h, mine, me)
            (
                await c.post(f"/api/v1/offers/{accepted}/accept", headers=h["specialist"])
            ).raise_for_status()
            # Declined by her.
            other = await submit_case(c, h["clinician"], "Pitted nails and scaly elbows?")
            declined = await pending_offer(c, h, other, me)
            r = await c.post(
                f"/api/v1/offers/{declined}/decline",
                headers=h["specialist"],
                json={"reason": "On call at my own hospital"},
            )
            r.raise_for_status()
            # Left unanswered past its time (the only offer still pending then).
            lapsed = await submit_case(c, h["clinician"], "Painless ulcer on the shin?")
            expired = await pending_offer(c, h, lapsed, me)
            async with unit_of_work() as s:
                await expire_due(s, now=utcnow() + timedelta(days=2))
            # Cancelled by the facility while she held the offer.
            mistaken = await submit_case(c, h["clinician"], "Sent by mistake")
            cancelled = await pending_offer(c, h, mistaken, me)
            (
                await c.post(f"/api/v1/cases/{mistaken}/cancel", headers=h["clinician"], json={})
            ).raise_for_status()
            states = {}
            for offer in (withdrawn, accepted, declined, expired, cancelled):
                r = await c.get(f"/api/v1/offers/{offer}", headers=h["specialist"])
                r.raise_for_status()
                states[offer] = r.json()["status"]
            assert list(states.values()) == [
                "withdrawn",
                "accepted",
                "declined",
                "expired",
                "withdrawn",
            ]

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")

        async def opened(offer: str) -> str:
            await page.goto(f"{base}/offers/{offer}")
            await ready(page, "inbox")
            state = page.locator("#offer-state")
            await state.wait_for()
            return str(await state.inner_text())

        said = await opened(withdrawn)
        assert "Another specialist took this case; thank you" in said, said
        assert await page.locator(f"#offer-state a[href='/cases/{elsewhere}']").count() == 0
        assert "Target lesions" not in await page.inner_text("main")

        said = await opened(declined)
        assert "You declined this case" in said, said
        said = await opened(expired)
        assert "expired" in said, said
        said = await opened(cancelled)
        assert "cancelled" in said, said
        assert await page.locator(f"#offer-state a[href='/cases/{mistaken}']").count() == 0

        said = await opened(accepted)
        assert "You accepted this case" in said, said
        await page.click(f"#offer-state a[href='/cases/{mine}']")
        await ready(page, "case")
        await page.wait_for_selector("#room:not([hidden])")
        await ctx.close()


async def test_an_open_offer_link_says_when_another_takes_the_case(app, factory):
    """She has the link open while the offer waits; a colleague accepts first: the page says
    so as it happens (it used to say it only when the link was opened again)."""
    async with seeded_console(app, factory) as (base, b, prog):
        me = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            colleague = await _colleague(c, h["coordinator"])
            case = await submit_case(c, h["clinician"], "Target lesions on the palms?")
            both = await _offer_to_both(c, h, case, [me, colleague["id"]])

            ctx = await b.new_context()
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("specialist"))
            await page.goto(f"{base}/offers/{both[me]}")
            await ready(page, "inbox")
            await page.wait_for_selector(f"#offer-list [data-offer-id='{both[me]}']")
            assert await page.locator("#offer-state").is_hidden()  # it waits: its card shows

            r = await c.post(
                f"/api/v1/offers/{both[colleague['id']]}/accept", headers=colleague["headers"]
            )
            r.raise_for_status()
        state = page.locator("#offer-state")
        await state.wait_for(timeout=15000)
        assert "Another specialist took this case; thank you" in await state.inner_text()
        await ctx.close()
