"""Notification preferences and invitations, in a real browser.

Saving preferences that did not touch the zone or the language leaves both following the
specialist's profile (the page shows the zone quiet hours are kept in); a language she
picks is hers and stays. Quiet hours need both ends. The table fits a 360 px phone. A
damaged invitation link reads as not valid, like a used one; a coordinator is offered only
the roles a coordinator may invite."""

from typing import Any

import httpx

from tests.console.support import PASSWORD, bearers, ready, seeded_console, signed_in

PREFS = "/api/v1/me/notification-preferences"


async def _profile(c: httpx.AsyncClient, coord: dict[str, str], who: str, **changes: Any) -> None:
    """The seeded dermatologist's profile, with `changes` (PUT replaces it whole)."""
    body = {
        "specialties": ["dermatology"],
        "languages": ["es", "en"],
        "timezone": "UTC",
        "availability": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        "time_off": [],
        "max_active_cases": 5,
        "accepting": True,
        "verified": True,
    } | changes
    r = await c.put(f"/api/v1/specialists/{who}/profile", headers=coord, json=body)
    r.raise_for_status()


async def _save(page: Any) -> None:
    await page.click("#prefs-form button[type=submit]")
    await page.wait_for_selector("#status:has-text('Saved')")


async def test_zone_and_language_follow_the_profile_unless_she_chooses(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "specialist", "coordinator")
            await _profile(c, h["coordinator"], specialist, timezone="Europe/Madrid")

            ctx = await b.new_context(viewport={"width": 360, "height": 740})
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("specialist"))
            await page.goto(f"{base}/preferences")
            await ready(page, "preferences")
            # Quiet hours, nothing else touched.
            await page.fill("#quiet-start", "22:00")
            await page.fill("#quiet-end", "07:00")
            await _save(page)

            # She moves: her profile's zone and languages change. The notifications follow.
            await _profile(
                c, h["coordinator"], specialist, timezone="America/New_York", languages=["fr"]
            )
            got = (await c.get(PREFS, headers=h["specialist"])).json()
            assert got["quiet_hours"] == {"start": "22:00", "end": "07:00"}
            assert (got["timezone"], got["language"]) == ("America/New_York", "fr"), got

            # The page says the zone quiet hours are kept in, and the language.
            await page.reload()
            await ready(page, "preferences")
            said = await page.inner_text("#prefs-zone")
            assert "New York, " in said and "America/" not in said, said
            assert await page.input_value("#prefs-language") == "fr"
            # The table fits the phone: nothing to scroll sideways to reach a column.
            fits = await page.evaluate(
                "(() => { const t = document.querySelector('#prefs-table');"
                " return t.scrollWidth <= t.parentElement.clientWidth + 1; })()"
            )
            assert fits, "the preferences table is wider than a 360 px phone"

            # A language she picks is hers: it stays when the profile changes again; the
            # zone she never chose still follows.
            await page.select_option("#prefs-language", "en")
            await _save(page)
            await _profile(c, h["coordinator"], specialist, timezone="Asia/Tokyo", languages=["es"])
            got = (await c.get(PREFS, headers=h["specialist"])).json()
            assert (got["timezone"], got["language"]) == ("Asia/Tokyo", "en"), got
            await ctx.close()


async def test_quiet_hours_need_both_ends(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "specialist")
            ctx = await b.new_context()
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("specialist"))
            await page.goto(f"{base}/preferences")
            await ready(page, "preferences")
            await page.fill("#quiet-start", "22:00")
            await page.fill("#quiet-end", "07:00")
            await _save(page)
            await page.reload()
            await ready(page, "preferences")
            # Only the start of quiet hours: refused on the form, nothing saved.
            await page.fill("#quiet-end", "")
            await page.fill("#quiet-start", "23:00")
            await page.click("#prefs-form button[type=submit]")
            error = page.locator("#quiet-error")
            await error.wait_for()
            assert await error.inner_text() == (
                "Give both the start and the end of quiet hours, or neither."
            )
            assert await page.get_attribute("#quiet-end", "aria-invalid") == "true"
            assert await page.locator("#status:has-text('Saved')").count() == 0
            got = (await c.get(PREFS, headers=h["specialist"])).json()
            assert got["quiet_hours"] == {"start": "22:00", "end": "07:00"}
            # Both ends: saved, and the message goes.
            await page.fill("#quiet-end", "06:30")
            await _save(page)
            assert await error.is_hidden()
            got = (await c.get(PREFS, headers=h["specialist"])).json()
            assert got["quiet_hours"] == {"start": "23:00", "end": "06:30"}
            await ctx.close()


async def test_a_damaged_invitation_link_reads_as_not_valid(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        # A link cut short (not a token at all: 422 on the path) reads as the same "not
        # valid" as one mistyped (unknown: 404), used or expired.
        for token in ("bogus-token", "x" * 40):
            await page.goto(f"{base}/invitations/{token}")
            await ready(page, "invite")
            await page.fill("#inv-name", "Dr Grace Okello")
            await page.fill("#inv-password", PASSWORD)
            await page.click("#accept-form button[type=submit]")
            box = page.locator("#form-error")
            await box.wait_for()
            assert await box.inner_text() == "This invitation is not valid any more.", token
        await ctx.close()


async def test_a_coordinator_is_offered_only_the_roles_a_coordinator_may_invite(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        offered = {}
        for who in ("coordinator", "admin"):
            ctx = await b.new_context()
            page = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/admin/users")
            await ready(page, "users")
            offered[who] = await page.eval_on_selector_all(
                "#inv-role option", "(os) => os.map((o) => o.value)"
            )
            await ctx.close()
        assert offered == {
            "coordinator": ["clinician", "specialist", "interpreter"],
            "admin": ["clinician", "specialist", "interpreter", "coordinator", "admin"],
        }
