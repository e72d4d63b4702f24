"""On a 360 px phone the long tables (people, specialists, API clients, the audit log, a
case's candidates) stack their rows as cards, each cell saying its column, instead of
scrolling sideways."""

import httpx

from tests.console.support import (
    ADMIN,
    bearers,
    ready,
    seeded_console,
    signed_in,
    submit_case,
    token,
)


async def page_api_client(base, prog) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        admin = {"Authorization": f"Bearer {await token(c, ADMIN)}"}
        r = await c.post(
            "/api/v1/api-clients",
            headers=admin,
            json={
                "name": "Hospital EMR of the coast",
                "organization_id": prog.org["id"],
                "scopes": ["cases:read", "cases:write"],
            },
        )
        r.raise_for_status()


PAGES = {
    "coordinator": [
        ("/specialists", "specialists", "#specialist-table"),
        ("/admin/facilities", "facilities", "#facility-table"),
        ("/admin/users", "users", "#user-table"),
    ],
    "admin": [
        ("/admin/clients", "clients", "#client-table"),
        ("/admin/audit", "audit", "#audit-table"),
    ],
}


async def test_long_tables_fit_a_phone(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            case_id = await submit_case(c, h["clinician"], "Ulcer on the heel: offloading?")
        walk = {
            **PAGES,
            "coordinator": [
                *PAGES["coordinator"],
                (f"/cases/{case_id}", "case", "#candidate-table"),
            ],
        }
        for who, pages in walk.items():
            if who == "admin":  # a client to list
                await page_api_client(base, prog)
            ctx = await b.new_context(viewport={"width": 360, "height": 740})
            page = await ctx.new_page()
            await signed_in(
                page, base, prog.email(who), "queue" if who == "coordinator" else "users"
            )
            for path, name, table in pages:
                await page.goto(f"{base}{path}")
                await ready(page, name)
                if name == "specialists":
                    await page.uncheck("#only-unverified")  # the seeded one is verified
                await page.locator(f"{table} tbody tr").first.wait_for()
                wide = await page.evaluate(
                    """(sel) => {
                        const box = document.querySelector(sel).closest('.scroll');
                        const page = document.documentElement.scrollWidth;
                        return [box.scrollWidth, box.clientWidth, page];
                    }""",
                    table,
                )
                assert wide[0] <= wide[1] and wide[2] <= 360, (path, wide)
                labelled = page.locator(f"{table} tbody tr:first-child td[data-label]")
                assert await labelled.count() >= 3, path
            await ctx.close()


async def test_at_a_desktops_width_each_cell_sits_under_its_head(app, factory):
    """The stacked cards are for a phone only: on a desktop the candidates are a table again,
    each value under its column's head (a box and its name were once laid out as flex items,
    pushing every value one column to the left of its head)."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            case_id = await submit_case(c, h["clinician"], "Ulcer on the heel: offloading?")
        ctx = await b.new_context(viewport={"width": 1280, "height": 800})
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.locator("#candidate-table tbody tr").first.wait_for()
        offsets = await page.evaluate(
            """() => {
                const heads = [...document.querySelectorAll('#candidate-table thead th')];
                const cells = [...document.querySelector('#candidate-table tbody tr').children];
                return heads.map((th, i) => [th.getBoundingClientRect().left,
                                             cells[i].getBoundingClientRect().left]);
            }"""
        )
        assert len(offsets) == 7
        assert all(abs(head - cell) < 1 for head, cell in offsets), offsets
        await ctx.close()
