"""A double click on a form's button sends it once: the form's write in flight holds it
(core.js). On a slow link the first save of the availability bumped the profile's version
and the second, sent on the old one, said "The profile changed elsewhere"; a double
"Create" registered two API clients and showed one secret. The write is held here, as a
slow link holds it, while both clicks land."""

import asyncio
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    bearers,
    ready,
    seeded_console,
    signed_in,
    status_says,
    submit_case,
)


async def _held(page: Any, pattern: str, method: str) -> tuple[list[str], asyncio.Event]:
    """The `method` requests to `pattern` are counted and wait until the event is set."""
    seen: list[str] = []
    release = asyncio.Event()

    async def slow(route: Any) -> None:
        if route.request.method != method:
            await route.continue_()
            return
        seen.append(route.request.url)
        await release.wait()
        await route.continue_()

    await page.route(pattern, slow)
    return seen, release


async def test_a_double_click_on_save_saves_once_and_says_no_conflict(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        await page.fill("#sp-max", "4")
        puts, release = await _held(page, "**/api/v1/specialists/*/profile", "PUT")
        await page.dblclick("#profile-form button[type=submit]")
        await page.wait_for_function("() => true")  # both clicks handled by the page
        release.set()
        await status_says(page, "Saved.")
        await page.wait_for_selector("#profile-form:not([aria-busy])", state="attached")
        assert len(puts) == 1, puts
        assert await page.locator("#profile-problem").is_hidden()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "specialist")
            sid = prog.people["specialist"]["id"]
            r = await c.get(f"/api/v1/specialists/{sid}", headers=h["specialist"])
        assert r.json()["max_active_cases"] == 4
        await ctx.close()


async def test_a_double_click_on_create_registers_one_api_client(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/clients")
        await ready(page, "clients")
        await page.fill("#cl-name", "San Roque EMR")
        await page.select_option("#cl-org", prog.org["id"])
        posts, release = await _held(page, "**/api/v1/api-clients", "POST")
        await page.dblclick("#client-form button[type=submit]")
        await page.wait_for_function("() => true")
        release.set()
        await page.wait_for_selector("#client-secret:not([hidden])")
        await page.wait_for_selector("#client-form:not([aria-busy])", state="attached")
        assert len(posts) == 1, posts
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "admin")
            r = await c.get("/api/v1/api-clients", headers=h["admin"])
        assert [x["name"] for x in r.json()["items"]] == ["San Roque EMR"]
        # The table is read again after the secret is shown: wait for that read's row.
        await page.locator("#client-table tbody tr", has_text="San Roque EMR").wait_for()
        assert await page.locator("#client-table tbody tr").count() == 1
        await ctx.close()


async def test_the_room_still_takes_a_second_message_while_one_goes(app, factory, clock):
    """The room's form sends again while one goes (data-repeat): nothing held there."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            case_id = await submit_case(c, h["clinician"], "Rash: biopsy?")
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        assert await page.get_attribute("#message-form", "data-repeat") is not None
        await ctx.close()
