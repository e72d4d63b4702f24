"""Rounds in the console, end to end in a real browser, one browser context per person: a
coordinator schedules a weekly round (an RRULE) from the rounds calendar, invites a
specialist and the local clinician, sees the suggested agenda and puts the facility's
waiting case on it; the clinician (in Salta, in Spanish) and the specialist (in Madrid) see
the occurrence in their own time zones and join it; attendance cannot be recorded before it
begins and is once it has (the clinician's counts as local); the specialist writes the
round's recommendation during the round, it reaches the case's record, and the
coordinator's quality page counts the occurrence and its local attendance; a clinician of
another facility finds neither the round nor the case. Adding to the
agenda, joining, ticking attendance and saving the recommendation are done by keyboard.

The server runs in this process (`inprocess_server`), so it reads the test's clock: the
test moves time to the day of the round and past it (`clock.set`), nothing waits for it.
Each browser's clock is set to the same instant (`set_fixed_time`), since a page judges by
it whether an occurrence has begun.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.core.principal import Role
from tests.console.support import (
    ADMIN,
    PASSWORD,
    add_person,
    browser,
    need_chromium,
    ready,
    seed,
    settled,
    sign_in,
    submit_case,
    token,
)
from tests.realtime.support import inprocess_server
from tests.timing import T0

SALTA = ZoneInfo("America/Argentina/Salta")
JOIN_URL = "https://meet.example.org/dermatologia-san-roque"
QUESTION = "Ulcerated nodule on the shin for 2 months: leishmaniasis?"
ADVICE = "Biopsy the border for leishmania; meglumine antimoniate if confirmed."


async def _waiting_case(base: str, email: str) -> str:
    """A dermatology case the facility submitted and nobody has taken yet."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        return await submit_case(
            c,
            {"Authorization": f"Bearer {await token(c, email)}"},
            QUESTION,
            summary="Painless, slowly growing; lives near the Yungas forest.",
            patient={"reference": "HSR-3307", "age_years": 29, "sex": "female"},
        )


async def _go(page, href: str, name: str) -> None:
    """Follow a link of the navigation, as a person would."""
    await page.click(f"#nav a[href='{href}']")
    await ready(page, name)


async def test_a_round_from_the_calendar_to_the_quality_charts(app, factory, clock):
    need_chromium()
    await factory.make_user(Role.admin, email=ADMIN, password=PASSWORD)
    async with inprocess_server(app) as host, browser() as b:
        base = f"http://{host}"
        prog = await seed(base)
        clinician, specialist = prog.people["clinician"], prog.people["specialist"]
        case_id = await _waiting_case(base, prog.email("clinician"))

        # The first Wednesday after the clock's Monday, 08:30 in Salta (11:30 UTC, 12:30 in
        # Madrid): the test's clock sets the date, never the calendar on the wall.
        day = (T0 + timedelta(days=(2 - T0.weekday()) % 7 or 7)).date()
        local_start = f"{day.isoformat()}T08:30"
        start = datetime.fromisoformat(local_start).replace(tzinfo=SALTA).astimezone(UTC)
        start_z = start.strftime("%Y-%m-%dT%H:%M:%SZ")

        coord_ctx = await b.new_context(locale="en-GB", timezone_id="Europe/London")
        clin_ctx = await b.new_context(locale="es-AR", timezone_id="America/Argentina/Salta")
        spec_ctx = await b.new_context(locale="en-GB", timezone_id="Europe/Madrid")
        people = (coord_ctx, clin_ctx, spec_ctx)

        async def now_is(moment: datetime) -> None:
            """The server's clock and every person's browser move together."""
            clock.set(moment)
            for ctx in people:
                await ctx.clock.set_fixed_time(moment)

        await now_is(clock.now())
        joined: list[str] = []

        def meeting(who: str):
            async def answer(route) -> None:
                # The video meeting is another site; here it only notes who came.
                joined.append(who)
                await route.fulfill(status=200, content_type="text/html", body="<p>Meeting</p>")

            return answer

        await clin_ctx.route(JOIN_URL, meeting("clinician"))
        await spec_ctx.route(JOIN_URL, meeting("specialist"))
        coord, clin, spec = (
            await coord_ctx.new_page(),
            await clin_ctx.new_page(),
            await spec_ctx.new_page(),
        )
        errors: list[str] = []
        for who, page in (("coordinator", coord), ("clinician", clin), ("specialist", spec)):
            page.on("pageerror", lambda e, who=who: errors.append(f"{who}: {e}"))

        # The coordinator schedules the series from the rounds calendar.
        await sign_in(coord, base, prog.email("coordinator"), "queue")
        await _go(coord, "/rounds", "rounds")
        await coord.wait_for_selector("#round-create:not([hidden])")
        await coord.fill("#r-title", "Dermatología San Roque")
        await coord.select_option("#r-host", prog.org["id"])
        await coord.select_option("#r-specialty", "dermatology")
        await coord.fill("#r-start", local_start)
        await coord.fill("#r-duration", "60")
        await coord.select_option("#r-repeat", "custom")
        await coord.fill("#r-rrule", "FREQ=WEEKLY;BYDAY=WE")
        await coord.fill("#r-topic", "Cutaneous leishmaniasis")
        await coord.fill("#r-join", JOIN_URL)
        await coord.click("#round-form button[type=submit]")
        await coord.wait_for_url("**/rounds/rnd_*")
        await ready(coord, "round")
        round_id = coord.url.rsplit("/", 1)[1]
        assert await coord.input_value("#occurrence") == start_z
        assert await coord.get_attribute("#occurrence-local", "data-start") == start_z
        host_time = await coord.inner_text("#occurrence-host")
        assert "08:30 at the host" in host_time and "(Salta, " in host_time  # hers, in words

        # She invites the specialist and the local clinician.
        for person in (specialist, clinician):
            await coord.select_option("#participant-user", person["id"])
            await coord.click("#participant-form button[type=submit]")
            await coord.wait_for_selector(f"#participants li[data-user-id='{person['id']}']")
            await settled(coord)
        roles = await coord.inner_text("#participants")
        assert "Specialist" in roles and "Local team" in roles

        # The suggested agenda holds the facility's waiting case; the clinician presents it.
        suggested = coord.locator(f"#suggested li[data-case-id='{case_id}']")
        await suggested.wait_for()
        assert QUESTION in await suggested.inner_text()
        await coord.select_option("#presenter", clinician["id"])
        # By keyboard, as every action can be: focus the button, Enter.
        await suggested.locator("button.add-agenda").focus()
        await coord.keyboard.press("Enter")
        item = coord.locator(f"#agenda li[data-case-id='{case_id}']")
        await item.wait_for()
        await settled(coord)
        assert clinician["name"] in await item.inner_text()
        await suggested.wait_for(state="detached")

        # Days early, attendance cannot be ticked, and the page says why (nobody has
        # attended a round not yet held).
        early = f"#attendance li[data-user-id='{clinician['id']}'] input"
        assert not await coord.is_enabled(early)
        assert await coord.is_visible("#attendance-wait")
        assert not await coord.is_checked(early)

        # The clinician (Salta, Spanish) and the specialist (Madrid) see it in their own time.
        await sign_in(clin, base, prog.email("clinician"), "cases")
        await sign_in(spec, base, prog.email("specialist"), "inbox")
        for page, shown in ((clin, "8:30"), (spec, "12:30")):
            await _go(page, "/rounds", "rounds")
            coming = page.locator(f"#upcoming li[data-round-id='{round_id}']").first
            assert await coming.get_attribute("data-start") == start_z
            assert shown in await coming.locator(".when").inner_text()
            await coming.locator("a").click()
            await ready(page, "round")
            assert shown in await page.inner_text("#occurrence-local")
            assert await page.locator(f"#agenda li[data-case-id='{case_id}']").count() == 1
        assert await clin.get_attribute("#tz", "title") == "America/Argentina/Salta"
        assert await spec.get_attribute("#tz", "title") == "Europe/Madrid"
        assert (await spec.inner_text("#tz")).startswith("Madrid, ")
        assert await clin.get_attribute("html", "lang") == "es"

        # The day of the round, five minutes in: both join from the round page.
        await now_is(start + timedelta(minutes=5))
        for page in (clin, spec):
            assert await page.get_attribute("#round-join", "href") == JOIN_URL
            await page.focus("#round-join")
            async with page.context.expect_page() as popup:
                await page.keyboard.press("Enter")
            meeting = await popup.value
            await meeting.wait_for_load_state()
            assert meeting.url == JOIN_URL
            await meeting.close()
        assert sorted(joined) == ["clinician", "specialist"]

        # The coordinator records who came: the clinician's attendance is local.
        await coord.reload()
        await ready(coord, "round")
        for person in (clinician, specialist):
            row = f"#attendance li[data-user-id='{person['id']}']"
            await coord.focus(f"{row} input")
            await coord.keyboard.press("Space")
            await coord.wait_for_selector(f"{row} input:checked")
            await settled(coord)
        await coord.wait_for_selector(f"#attendance li[data-user-id='{clinician['id']}'] .local")
        spec_row = coord.locator(f"#attendance li[data-user-id='{specialist['id']}']")
        assert await spec_row.locator(".local").count() == 0

        # During the round the specialist writes what it advised.
        rec = spec.locator(f"#agenda li[data-case-id='{case_id}']")
        await rec.locator("textarea").fill(ADVICE)
        await spec.keyboard.press("Tab")  # from the text to its Save button
        await spec.keyboard.press("Enter")
        await spec.wait_for_selector(f"#agenda li[data-case-id='{case_id}'] p.muted", timeout=10000)
        # The host clinician writes too, on the page she opened before: she is shown the
        # specialist's advice, hers stays in the box, and nothing is replaced unseen.
        mine = clin.locator(f"#agenda li[data-case-id='{case_id}']")
        await mine.locator("textarea").fill("Biopsia primero.")
        await mine.locator("button.save-rec").click()
        await mine.locator(".rec-clash:not([hidden])").wait_for(timeout=10000)
        assert ADVICE[:30] in await mine.locator(".rec-clash").inner_text()
        assert await mine.locator("textarea").input_value() == "Biopsia primero."

        # After the round the advice is in the case's record, where the clinician reads it.
        await now_is(start + timedelta(hours=3))
        await clin.reload()
        await ready(clin, "round")
        await clin.click(f"#agenda li[data-case-id='{case_id}'] a")
        await ready(clin, "case")
        assert clin.url.endswith(f"/cases/{case_id}")
        await clin.wait_for_selector(f"#record-list li:has-text('{ADVICE[:30]}')")

        # The coordinator's quality page counts the occurrence and its local attendance.
        await _go(coord, "/quality", "quality")
        assert await coord.get_attribute("#rounds-held", "data-value") == "1"
        assert await coord.get_attribute("#rounds-local", "data-value") == "1"

        # What the pages showed is what the API holds.
        async with httpx.AsyncClient(base_url=base) as c:
            auth = {"Authorization": f"Bearer {await token(c, prog.email('coordinator'))}"}
            occ = f"/api/v1/rounds/{round_id}/occurrences/{start_z}"
            rows = (await c.get(f"{occ}/attendance", headers=auth)).json()["items"]
            agenda = (await c.get(f"{occ}/agenda", headers=auth)).json()["items"]
        assert {(a["user_id"], a["attended"], a["local"]) for a in rows} == {
            (clinician["id"], True, True),
            (specialist["id"], True, False),
        }
        assert [(i["case_id"], i["recommendation"]) for i in agenda] == [(case_id, ADVICE)]
        assert agenda[0]["recommended_by_id"] == specialist["id"]

        # A clinician of another facility is told "not found", as the API tells her.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            admin = {"Authorization": f"Bearer {await token(c, ADMIN)}"}
            r = await c.post(
                "/api/v1/organizations",
                headers=admin,
                json={
                    "name": "Centro de Salud Cachi",
                    "country": "AR",
                    "timezone": "America/Argentina/Salta",
                },
            )
            r.raise_for_status()
            await add_person(
                c, "outsider", "Dr Outsider", "clinician", organization_id=r.json()["id"]
            )
        out_ctx = await b.new_context()
        out = await out_ctx.new_page()
        out.on("pageerror", lambda e: errors.append(f"outsider: {e}"))
        await sign_in(out, base, "outsider@console.example.org", "cases")
        await _go(out, "/rounds", "rounds")
        assert await out.locator(f"#upcoming li[data-round-id='{round_id}']").count() == 0
        for path, name in ((f"/rounds/{round_id}", "round"), (f"/cases/{case_id}", "case")):
            await out.goto(base + path)
            await ready(out, name)
            assert await out.inner_text("main .error") == "Not found, or not yours to see."
        assert ADVICE not in await out.inner_text("main")

        assert errors == []
        for ctx in (coord_ctx, clin_ctx, spec_ctx, out_ctx):
            await ctx.close()
