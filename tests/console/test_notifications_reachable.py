"""The in-app notifications are reachable from the navigation for every signed-in role, show
how many wait unread, and a list that could not be read (offline, a slow link) says so in
her language and offers to try again, instead of "No notifications."."""

import httpx

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.notifications.kinds import Kind
from app.notifications.service import notify
from tests.console.support import bearers, ready, seeded_console, signed_in


def _the_list(url: str) -> bool:  # the in-app list, read or read again
    return "/api/v1/notifications?" in url


async def test_a_signed_note_is_found_from_the_navigation_and_a_failure_is_said(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with sessionmaker()() as s:
            await notify(
                s,
                prog.people["clinician"]["id"],
                Kind.note_signed,
                data={"specialty": "dermatology"},
                link=f"{base}/notes/not_x",
            )
            await s.commit()
        ctx = await b.new_context(locale="fr-FR", timezone_id="America/Argentina/Salta")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases")

        # A link in the navigation, for every role.
        link = page.locator("#nav a[href='/preferences']")
        assert await link.is_visible()
        assert await link.inner_text() == "Notifications"
        roles = await page.get_attribute("#nav li:has(a[href='/preferences'])", "data-roles")
        assert set(roles.split()) == {
            "admin",
            "clinician",
            "coordinator",
            "interpreter",
            "specialist",
        }

        await link.click()
        await ready(page, "preferences")
        item = page.locator("#notification-list li a")
        await item.wait_for()
        # Written in her facility's language (Spanish), the one her notifications follow.
        assert await item.inner_text() == "Se firmó una nota de consulta (Dermatología)"
        assert "1" in await page.inner_text("#unread-count")

        # The list cannot be read (the link dropped): said, with a way to try again.
        await page.route(_the_list, lambda route: route.abort())
        await page.reload()
        await ready(page, "preferences")
        error = page.locator("#notifications-error")
        await error.wait_for()
        assert "Pas de connexion" in await error.inner_text()
        assert "Aucune notification" not in await page.inner_text("#notifications")
        await page.unroute(_the_list)
        await page.click("#notifications-retry")
        await item.wait_for()
        assert await error.is_hidden()

        # Marked read from there: the count goes.
        await page.click("#read-all")
        await page.wait_for_selector("#notification-list li.muted a")
        assert await page.locator("#unread-count").is_hidden()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get("/api/v1/notifications?unread=true", headers=h["clinician"])
            assert r.json()["items"] == []
        await ctx.close()
