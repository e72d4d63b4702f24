"""A long unbroken name (a partner's 200-character API client name) wraps in its cell:
the table's other columns stay in view on a desktop, and on a 360 px phone nothing is
wider than the screen."""

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

LONG = "SanRoqueElectronicMedicalRecordIntegration" * 5  # 210 characters, no space


async def test_a_long_client_name_keeps_the_client_id_in_view(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = (await bearers(c, prog, "admin"))["admin"]
            r = await c.post(
                "/api/v1/api-clients",
                headers=h,
                json={
                    "name": LONG[:200],
                    "organization_id": prog.org["id"],
                    "scopes": ["cases:read"],
                },
            )
            r.raise_for_status()
            client_id = r.json()["client_id"]
        for width in (1280, 360):
            ctx = await b.new_context(locale="en-GB", viewport={"width": width, "height": 800})
            await ctx.clock.set_fixed_time(utcnow())
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("admin"))
            await page.goto(f"{base}/admin/clients")
            await ready(page, "clients")
            cell = page.locator("#client-table tbody td", has_text=client_id)
            box = await cell.bounding_box()
            assert box is not None
            assert 0 <= box["x"] and box["x"] + box["width"] <= width, (width, box)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, (width, wide)
            await ctx.close()
