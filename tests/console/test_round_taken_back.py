"""What a coordinator adds to a round by mistake, she takes back from the round page, in a
real browser: a case on an occurrence's agenda and a participant, each with its "Remove",
asked first (dismissed, nothing changes). A case whose recommendation is recorded offers no
"Remove"; a participant who presents a coming case is refused in her words and time until
that case is off the agenda. Those who may not arrange the round see no "Remove".

A double click on "Add to agenda" adds the case once, without a refusal (the second click
sent a second request, refused as already on the agenda). A rule that is not an RRULE is
refused once, in her language (it was said in English, twice), and the refusal is gone once
the round is created.

The server runs in this process and reads the test's clock; every date comes from it or from
the round's own occurrences.
"""

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    LOCALES,
    axe_violations,
    bearers,
    london_page,
    make_round,
    occurrences,
    ready,
    seeded_console,
    settled,
    signed_in,
    status_says,
    submit_case,
)


async def _agenda(c: httpx.AsyncClient, h: dict[str, str], rid: str, start: str) -> list[Any]:
    r = await c.get(f"/api/v1/rounds/{rid}/occurrences/{start}/agenda", headers=h)
    r.raise_for_status()
    return list(r.json()["items"])


async def _put_on_agenda(c, h, rid: str, start: str, case_id: str, presenter: str) -> Any:
    r = await c.post(
        f"/api/v1/rounds/{rid}/occurrences/{start}/agenda",
        headers=h,
        json={"case_id": case_id, "presenter_id": presenter},
    )
    r.raise_for_status()
    return r.json()


async def test_a_case_and_a_participant_added_by_mistake_are_taken_back(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician, specialist = prog.people["clinician"], prog.people["specialist"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator", "clinician", "specialist")
            coord = h["coordinator"]
            rnd = await make_round(
                c, coord, prog.org["id"], "Skin round", (utcnow() + timedelta(days=1)).date()
            )
            rid = rnd["id"]
            start = (await occurrences(c, coord, rid, limit=1))[0]["original_start"]
            for who, role in ((specialist, "specialist"), (clinician, "local_team")):
                r = await c.post(
                    f"/api/v1/rounds/{rid}/participants",
                    headers=coord,
                    json={"user_id": who["id"], "role": role},
                )
                r.raise_for_status()
            wrong = await submit_case(c, h["clinician"], "Nail dystrophy, not for this round")
            advised = await submit_case(c, h["clinician"], "Plaques on both elbows")
            presented = await submit_case(c, h["clinician"], "Itchy papules after travel")
            await _put_on_agenda(c, coord, rid, start, wrong, clinician["id"])
            item = await _put_on_agenda(c, coord, rid, start, advised, clinician["id"])
            r = await c.patch(
                f"/api/v1/rounds/{rid}/occurrences/{start}/agenda/{item['id']}",
                headers=h["specialist"],
                json={"recommendation": "Topical steroid, review in a month."},
            )
            r.raise_for_status()
            await _put_on_agenda(c, coord, rid, start, presented, specialist["id"])

            # The specialist in the round may not arrange it: no "Remove" anywhere.
            spec_ctx, spec = await london_page(b)
            await signed_in(spec, base, prog.email("specialist"))
            await spec.goto(f"{base}/rounds/{rid}?start={start}")
            await ready(spec, "round")
            await spec.wait_for_selector(f"#agenda li[data-case-id='{wrong}']")
            assert await spec.locator("#agenda .remove-agenda").count() == 0
            assert await spec.locator("#participants .remove-participant").count() == 0
            await spec_ctx.close()

            errors: list[str] = []
            ctx, page = await london_page(b)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}?start={start}")
            await ready(page, "round")
            wrong_item = page.locator(f"#agenda li[data-case-id='{wrong}']")
            await wrong_item.wait_for()
            # The advised case stays: its recommendation is part of the case's record.
            advised_item = page.locator(f"#agenda li[data-case-id='{advised}']")
            assert await advised_item.locator(".remove-agenda").count() == 0
            assert await wrong_item.locator(".remove-agenda").count() == 1
            assert await axe_violations(page) == []

            asked: list[str] = []

            def answer(accept: bool):
                async def reply(dialog: Any) -> None:
                    asked.append(dialog.message)
                    await (dialog.accept() if accept else dialog.dismiss())

                return reply

            # Asked first: dismissed, the case stays.
            page.once("dialog", answer(False))
            await wrong_item.locator(".remove-agenda").click()
            await settled(page)
            assert asked and "Nail dystrophy" in asked[-1] and "off the agenda" in asked[-1]
            assert await wrong_item.count() == 1
            assert len(await _agenda(c, coord, rid, start)) == 3

            # Said yes: off the agenda, back among the suggestions.
            page.once("dialog", answer(True))
            await wrong_item.locator(".remove-agenda").click()
            await wrong_item.wait_for(state="detached")
            await settled(page)
            await status_says(page, "is off the agenda")
            await page.wait_for_selector(f"#suggested li[data-case-id='{wrong}']")
            on_it = {i["case_id"] for i in await _agenda(c, coord, rid, start)}
            assert on_it == {advised, presented}

            # The specialist presents a coming case: she stays, and the page says why, in
            # the viewer's time.
            spec_row = page.locator(f"#participants li[data-user-id='{specialist['id']}']")
            page.once("dialog", answer(True))
            await spec_row.locator(".remove-participant").click()
            await settled(page)
            said = await status_says(page, "presents a case")
            assert specialist["name"] in said and "Take that case off the agenda" in said
            assert await spec_row.count() == 1
            assert f"Remove {specialist['name']} from this round?" in asked[-1]

            # That case off the agenda, she is taken out of the round.
            presented_item = page.locator(f"#agenda li[data-case-id='{presented}']")
            page.once("dialog", answer(True))
            await presented_item.locator(".remove-agenda").click()
            await presented_item.wait_for(state="detached")
            await settled(page)
            page.once("dialog", answer(True))
            await spec_row.locator(".remove-participant").click()
            await spec_row.wait_for(state="detached")
            await settled(page)
            await status_says(page, "no longer takes part")
            # She can be added again; the one left is still there.
            await page.wait_for_selector(
                f"#participant-user option[value='{specialist['id']}']", state="attached"
            )
            assert (
                await page.locator(f"#participants li[data-user-id='{clinician['id']}']").count()
                == 1
            )
            r = await c.get(f"/api/v1/rounds/{rid}/participants", headers=coord)
            assert [p["user_id"] for p in r.json()["items"]] == [clinician["id"]]
            assert errors == []
            await ctx.close()


async def test_a_double_click_on_add_to_agenda_adds_the_case_once(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator", "clinician")
            coord = h["coordinator"]
            rnd = await make_round(
                c, coord, prog.org["id"], "Skin round", (utcnow() + timedelta(days=1)).date()
            )
            rid = rnd["id"]
            start = (await occurrences(c, coord, rid, limit=1))[0]["original_start"]
            case_id = await submit_case(c, h["clinician"], "Ulcer on the left shin")

            ctx, page = await london_page(b)
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/rounds/{rid}?start={start}")
            await ready(page, "round")
            suggested = page.locator(f"#suggested li[data-case-id='{case_id}']")
            await suggested.wait_for()
            # The first request is held until both clicks are in: on a slow link, the second
            # click comes while the first is on its way.
            sent: list[str] = []
            release = asyncio.Event()

            async def hold(route: Any) -> None:
                if route.request.method == "POST":
                    sent.append(route.request.url)
                    await release.wait()
                await route.continue_()

            await page.route("**/agenda", hold)
            await suggested.locator("button.add-agenda").dblclick()
            release.set()
            await page.wait_for_selector(f"#agenda li[data-case-id='{case_id}']")
            await settled(page)
            assert len(sent) == 1
            assert "already" not in await page.inner_text("#status")
            assert [i["case_id"] for i in await _agenda(c, coord, rid, start)] == [case_id]
            await ctx.close()


async def test_a_rule_that_is_not_valid_is_said_once_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale=LOCALES["fr"])
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), lang="fr")
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        await page.wait_for_selector("#round-create:not([hidden])")
        await page.fill("#r-title", "Dermatologie San Roque")
        await page.select_option("#r-host", prog.org["id"])
        await page.select_option("#r-specialty", "dermatology")
        await page.fill("#r-start", (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT09:00"))
        await page.select_option("#r-repeat", "custom")
        await page.fill("#r-rrule", "FREQ=FORTNIGHTLY")
        await page.click("#round-form button[type=submit]")
        said = await status_says(page, "n'est pas une règle de répétition valide")
        assert said.count("valide") == 1, said
        assert "Not a valid" not in said and "RRULE:" not in said, said
        assert said.startswith("Certains champs sont à corriger"), said
        assert await page.get_attribute("#r-rrule", "aria-invalid") == "true"

        # Put right, the round is created and the refusal is gone from the status line.
        await page.fill("#r-rrule", "FREQ=WEEKLY;INTERVAL=2")
        await page.click("#round-form button[type=submit]")
        await page.wait_for_url("**/rounds/rnd_*")
        await ready(page, "round")
        status = await page.inner_text("#status")
        assert "règle" not in status and "corriger" not in status, status
        assert "Dermatologie San Roque" in status, status

        # The same on the round's own form.
        await page.click("#round-edit summary")
        await page.select_option("#e-repeat", "custom")
        await page.fill("#e-rrule", "FREQ=FORTNIGHTLY")
        await page.click("#edit-form button[type=submit]")
        said = await status_says(page, "n'est pas une règle de répétition valide")
        assert said.count("valide") == 1 and "Not a valid" not in said, said
        await ctx.close()
