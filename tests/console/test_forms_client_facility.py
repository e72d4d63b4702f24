"""An API client acts for one facility: the console never chooses it for her. The select
starts at "Choose a facility…", and a client with none chosen is refused beside the field,
before anything is sent; the one she chooses is the one it is bound to."""

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_the_facility_of_a_new_api_client_is_chosen_never_defaulted(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = (await bearers(c, prog, "admin"))["admin"]
            r = await c.post(
                "/api/v1/organizations",
                headers=h,
                json={
                    "name": "Kisumu County Hospital",
                    "country": "KE",
                    "timezone": "Africa/Nairobi",
                    "languages": ["sw", "en"],
                },
            )
            r.raise_for_status()
            kisumu = r.json()["id"]
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/clients")
        await ready(page, "clients")
        assert await page.input_value("#cl-org") == ""
        assert "Choose a facility" in await page.locator("#cl-org option").first.inner_text()

        posts: list[str] = []
        page.on(
            "request",
            lambda r: r.method == "POST" and "/api-clients" in r.url and posts.append(r.url),
        )
        await page.fill("#cl-name", "Kisumu EMR")
        await page.click("#client-form button[type=submit]")
        beside = page.locator("#cl-org-field-error")
        await beside.wait_for()
        assert "Choose the facility this client acts for." in await beside.inner_text()
        assert await page.get_attribute("#cl-org", "aria-invalid") == "true"
        assert posts == []

        await page.select_option("#cl-org", kisumu)
        await beside.wait_for(state="detached")
        await page.click("#client-form button[type=submit]")
        await page.wait_for_selector("#client-secret:not([hidden])")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get("/api/v1/api-clients", headers=h)
        assert [(x["name"], x["organization_id"]) for x in r.json()["items"]] == [
            ("Kisumu EMR", kisumu)
        ]
        await ctx.close()
