"""People: the invitations still waiting for an answer, in a real browser. The coordinator
invites two volunteers; both are listed with who sent them and until when the link works.
She takes one back (asked first, naming the address): it leaves the list and its link no
longer works. Inviting the other again keeps one row: the newest link."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_a_coordinator_sees_and_takes_back_waiting_invitations(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        asked: list[str] = []

        async def answer(dialog):
            asked.append(dialog.message)
            await dialog.accept()

        page.on("dialog", answer)
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/admin/users")
        await ready(page, "users")
        await page.locator("#invitations-none").wait_for()  # none yet

        rows = page.locator("#invitation-table tbody tr")
        for email in ("amara@example.org", "tomas@example.org", "amara@example.org"):
            await page.fill("#inv-email", email)
            await page.select_option("#inv-role", "specialist")
            await page.click("#invite-form button[type=submit]")
            await page.locator("#invite-state", has_text=email).wait_for()
        # The list is read again after the third answer: wait for that read, not for the
        # two rows the second one already left (Amara's first link and Tomás's).
        await page.wait_for_function(
            """() => {
                const rows = document.querySelectorAll('#invitation-table tbody tr');
                return rows.length === 2 && rows[0].textContent.includes('amara@example.org');
            }"""
        )
        texts = await rows.all_inner_texts()
        assert "tomas@example.org" in texts[1] and "amara@example.org" in texts[0], texts
        assert all("Sam Okafor" in t for t in texts), texts  # who sent them

        await rows.filter(has_text="tomas@example.org").locator("button").click()
        await page.locator("#status", has_text="taken back").wait_for()
        assert asked and "tomas@example.org" in asked[0]
        await page.wait_for_function(
            "() => document.querySelectorAll('#invitation-table tbody tr').length === 1"
        )
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.get("/api/v1/invitations", headers=h["coordinator"])
            assert [i["email"] for i in r.json()["items"]] == ["amara@example.org"]
