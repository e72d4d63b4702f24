"""A page whose subject is not hers to see (a round her facility is not part of, opened by
its address) says so under its title, on the first screen, with none of the page's empty
headings and sections around it. In a real browser, on a phone."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    add_person,
    bearers,
    make_round,
    ready,
    seeded_console,
    signed_in,
)


async def test_a_round_not_hers_says_only_that(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            day = (utcnow() + timedelta(days=2)).date()
            rnd = await make_round(c, h["coordinator"], prog.org["id"], "Skin round", day)
            r = await c.post(
                "/api/v1/organizations",
                headers=h["coordinator"],
                json={"name": "Posta Elsewhere", "country": "AR", "timezone": "UTC"},
            )
            r.raise_for_status()
            await add_person(c, "away", "Dr Away", "clinician", organization_id=r.json()["id"])

        page = await (await b.new_context(viewport={"width": 360, "height": 740})).new_page()
        await signed_in(page, base, "away@console.example.org")
        await page.goto(f"{base}/rounds/{rnd['id']}")
        await ready(page, "round")
        said = page.locator("main > .error")
        assert await said.inner_text() == "Not found, or not yours to see."
        box = await said.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 740, box  # the first screen
        assert await page.locator("main h2:visible").count() == 0  # none left empty on show
        assert await page.inner_text("main h1") == "Round"
