"""Notification preferences as the person sees them: quiet hours in HER zone, the language
of her notifications, and only the kinds her role can receive.

A coordinator reading the console in French, her browser in Kinshasa, has no zone or
language the service knows of (no specialist profile, no facility): the page offers her
browser's zone and her page's language instead of a UTC and an English nobody chose, says
they are not saved yet, and once saved her quiet hours are Kinshasa's and her
notifications French. She can choose another zone by its name. A clinician reading in
Spanish is not offered offers ("Nueva oferta") she can never receive."""

import httpx

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.notifications.kinds import Kind
from app.notifications.service import notify
from tests.console.support import bearers, ready, seeded_console, signed_in, status_says

PREFS = "/api/v1/me/notification-preferences"


async def test_quiet_hours_in_her_zone_and_notifications_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            ctx = await b.new_context(locale="fr-FR", timezone_id="Africa/Kinshasa")
            await ctx.clock.set_fixed_time(utcnow())
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/preferences")
            await ready(page, "preferences")

            # Her browser's zone and her page's language are offered, and said not saved yet.
            assert await page.input_value("#prefs-timezone") == "Africa/Kinshasa"
            assert await page.get_attribute("#prefs-timezone", "list") == "zone-names"
            assert await page.input_value("#prefs-language") == "fr"
            # Named in words, as every page names a zone; the field keeps the id.
            said = await page.inner_text("#prefs-zone")
            assert "Kinshasa, " in said and "enregistr" in said.lower(), said
            assert "Africa/" not in said, said
            # Only what a coordinator is ever sent.
            rows = await page.eval_on_selector_all(
                "#prefs-table tbody th", "(ths) => ths.map((th) => th.textContent)"
            )
            assert "Nouvelle proposition" not in rows and len(rows) == 6, rows
            assert "Suivi qui vous est confié" in rows  # a follow-up handed to her

            await page.fill("#quiet-start", "22:00")
            await page.fill("#quiet-end", "07:00")
            await page.click("#prefs-form button[type=submit]")
            await status_says(page, "Enregistré")
            got = (await c.get(PREFS, headers=h["coordinator"])).json()
            assert got["quiet_hours"] == {"start": "22:00", "end": "07:00"}
            assert (got["timezone"], got["language"]) == ("Africa/Kinshasa", "fr"), got

            # Her notifications are now written in French.
            async with sessionmaker()() as s:
                await notify(
                    s,
                    prog.people["coordinator"]["id"],
                    Kind.case_unmatched,
                    data={"specialty": "dermatology", "urgency": "routine", "country": "HT"},
                    link="/cases/x",
                )
                await s.commit()
            [n] = (await c.get("/api/v1/notifications", headers=h["coordinator"])).json()["items"]
            assert n["subject"].startswith("Demande d'avis sans spécialiste"), n["subject"]

            # The page now says her quiet hours follow Kinshasa, nothing left to save.
            await page.reload()
            await ready(page, "preferences")
            said = await page.inner_text("#prefs-zone")
            assert "Kinshasa, " in said and "enregistr" not in said.lower(), said

            # She travels: another zone, chosen by its name.
            await page.fill("#prefs-timezone", "Europe/Paris")
            await page.click("#prefs-form button[type=submit]")
            await status_says(page, "Enregistré")
            got = (await c.get(PREFS, headers=h["coordinator"])).json()
            assert got["timezone"] == "Europe/Paris"
            said = await page.inner_text("#prefs-zone")
            assert "Paris, " in said and "Europe/" not in said, said
            await ctx.close()


async def test_a_clinician_is_offered_only_the_kinds_she_can_receive(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR", timezone_id="America/Argentina/Salta")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/preferences")
        await ready(page, "preferences")
        rows = await page.eval_on_selector_all(
            "#prefs-table tbody th", "(ths) => ths.map((th) => th.textContent)"
        )
        assert "Nueva oferta" not in rows and "Oferta a punto de vencer" not in rows, rows
        assert await page.locator("input[name^='offer']").count() == 0
        assert await page.locator("input[name='note_signed:email']").count() == 1
        # Her facility's zone is what quiet hours follow (nothing to save for it).
        assert await page.input_value("#prefs-timezone") == "America/Argentina/Salta"
        await ctx.close()
