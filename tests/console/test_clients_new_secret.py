"""An admin gives a partner app a new secret from the clients page (its old one leaked):
asked first, naming it and saying what follows; then the new secret is shown once, to
copy, as at registration; the old secret and the tokens taken with it are refused at once.
Before, the page (and the API) had no way to replace a client's secret."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def _token(c: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await c.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_an_admin_gives_a_partner_app_a_new_secret(app, factory):
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
            r = await _token(c, created["client_id"], created["client_secret"])
            r.raise_for_status()
            bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}

        ctx = await b.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await ctx.new_page()
        asked: list[str] = []
        accept = [False, True]  # the first time she thinks better of it

        async def answer(dialog):
            asked.append(dialog.message)
            await (dialog.accept() if accept.pop(0) else dialog.dismiss())

        page.on("dialog", answer)
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/clients")
        await ready(page, "clients")
        row = page.locator(f"#client-table tr[data-client-id='{created['id']}']")
        button = row.get_by_role("button", name="New secret")

        await button.click()
        question = (
            "Give Karnali EMR a new secret? The old secret stops working at once, and so do "
            "the tokens taken with it: the partner app must be given the new one."
        )
        assert asked == [question]
        assert await page.locator("#client-secret").is_hidden()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            assert (await c.get("/api/v1/me", headers=bearer)).status_code == 200  # unchanged

        await button.click()
        box = page.locator("#client-secret")
        await box.wait_for()
        assert asked == [question, question]
        assert "Karnali EMR has a new secret" in await box.inner_text()
        secret = await page.locator("#client-secret-value").input_value()
        assert secret.startswith("cs_") and secret != created["client_secret"]
        await box.get_by_role("button", name="Copy").click()
        await page.locator("#status", has_text="Secret copied.").wait_for()
        assert await page.evaluate("navigator.clipboard.readText()") == secret

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await _token(c, created["client_id"], created["client_secret"])
            assert r.status_code == 401 and r.json()["error"] == "invalid_client"
            assert (await c.get("/api/v1/me", headers=bearer)).status_code == 401
            r = await _token(c, created["client_id"], secret)
            assert r.status_code == 200, r.text

        # The audit page says it in her words, naming the client.
        await page.goto(f"{base}/admin/audit")
        await ready(page, "audit")
        said = page.locator("#audit-table tbody tr", has_text="Changed an API client (new secret)")
        await said.locator("td", has_text="API client · Karnali EMR").wait_for()
        await ctx.close()
