"""An admin switches a partner app off from the clients page (asked first, naming it), and
its token is refused at once; on again, it is let back in. Before, a client once
registered could not be stopped."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_an_admin_switches_a_partner_app_off_and_on(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "admin")
            r = await c.post(
                "/api/v1/api-clients",
                headers=h["admin"],
                json={
                    "name": "Karnali EMR",
                    "organization_id": prog.org["id"],
                    "scopes": ["cases:read"],
                },
            )
            r.raise_for_status()
            created = r.json()
            r = await c.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": created["client_id"],
                    "client_secret": created["client_secret"],
                },
            )
            bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert (await c.get("/api/v1/me", headers=bearer)).status_code == 200

        ctx = await b.new_context()
        page = await ctx.new_page()
        asked: list[str] = []

        async def answer(dialog):
            asked.append(dialog.message)
            await dialog.accept()

        page.on("dialog", answer)
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/clients")
        await ready(page, "clients")
        row = page.locator(f"#client-table tr[data-client-id='{created['id']}']")
        await row.get_by_role("button", name="Switch off").click()
        await row.locator("td", has_text="Off: its tokens are refused").wait_for()
        assert asked == [
            "Switch off Karnali EMR? Its tokens are refused at once and it gets no new one "
            "until you switch it on again."
        ]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            assert (await c.get("/api/v1/me", headers=bearer)).status_code == 401

        await row.get_by_role("button", name="Switch on").click()
        await row.get_by_role("button", name="Switch off").wait_for()
        assert len(asked) == 1  # on again asks nothing
        await ctx.close()
