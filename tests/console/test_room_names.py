"""The live room says who is there and who wrote by name, in a real browser: the clinician
reads "Here now: Dr Ana Ruiz (Specialist)", then "Dr Ana Ruiz is typing…" while she types,
and once her message arrives the line goes and the message is signed with her name. The
specialist reads the referring clinician by name too (the directory shows the people on her
cases): before, she could only read "Clinician"."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    plan_follow_up,
    ready,
    seeded_console,
    signed_in,
)


async def test_the_room_names_who_is_there_and_who_wrote(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Scaly patches on both elbows?")

        pages = {}
        for who in ("clinician", "specialist"):
            ctx = await b.new_context()
            page = pages[who] = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
        clin, spec = pages["clinician"], pages["specialist"]

        presence = clin.locator("#presence")
        await presence.filter(has_text="Dr Ana Ruiz (Specialist)").wait_for()
        await spec.type("#message-body", "Any topical steroid on site?", delay=20)
        typing = clin.locator("#typing")
        await typing.filter(has_text="Dr Ana Ruiz is typing").wait_for()
        await spec.click("#message-form button[type=submit]")
        mine = clin.locator("#messages li[data-seq='1'] .meta")
        await mine.filter(has_text="Dr Ana Ruiz (Specialist)").wait_for()
        assert await typing.inner_text() == ""  # her message is here: nobody is typing
        # The specialist finds the clinician of her case in the directory: named too.
        await spec.locator("#presence").filter(has_text="Dr Lucía Mamani (Clinician)").wait_for()
        await clin.type("#message-body", "Only hydrocortisone 1%.", delay=20)
        await spec.locator("#typing").filter(has_text="Dr Lucía Mamani is typing").wait_for()
        await clin.click("#message-form button[type=submit]")
        theirs = spec.locator("#messages li[data-seq='2'] .meta")
        await theirs.filter(has_text="Dr Lucía Mamani (Clinician)").wait_for()
        for page in pages.values():
            await page.context.close()


async def test_whom_a_follow_up_is_for_is_said_by_name(app, factory):
    """The follow-up form's "Who" and each follow-up's owner name the people of the case
    (found by this session's walk: "Me / The specialist", though the page named her)."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Scaly patches on both elbows?")
            clinician = prog.people["clinician"]["id"]
            what = "Photos of the elbows after a week."
            await plan_follow_up(c, h["specialist"], case_id, clinician, what, days=3)
        for who, other in (
            ("specialist", "Dr Lucía Mamani (Clinician)"),
            ("clinician", "Dr Ana Ruiz (Specialist)"),
        ):
            ctx = await b.new_context()
            page = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            options = page.locator("#fu-assignee option")
            await options.filter(has_text=other).wait_for(state="attached")
            assert await options.all_inner_texts() == ["Me", other]
            item = page.locator("#followup-list li").filter(has_text="Photos of the elbows")
            owner = "Dr Lucía Mamani (Clinician)" if who == "specialist" else "Me"
            assert f"Who: {owner}" in await item.inner_text()
            await ctx.close()


async def test_a_cancelled_case_keeps_its_conversation_to_read(app, factory):
    """Cancelled, the case has no live room, but what was said in it stays readable on its
    page, by name and in order, with nothing to write in (before, the room was hidden and
    the specialist's questions and advice could be read only through the API)."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on both hands?")
            for n, (who, body) in enumerate(
                (
                    ("specialist", "Does the rash spare the palms?"),
                    ("clinician", "Yes, the palms are clear."),
                )
            ):
                r = await c.post(
                    f"/api/v1/cases/{case_id}/messages",
                    headers=h[who],
                    json={"body": body, "client_msg_id": f"m-{n}"},
                )
                r.raise_for_status()
            r = await c.post(f"/api/v1/cases/{case_id}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        assert await page.locator("#room").is_visible()
        assert await page.inner_text("#link-state") == "Read only: the case was cancelled"
        assert await page.locator("#message-form").is_hidden()
        assert await page.locator("#call").is_hidden()
        said = await page.locator("#messages li").evaluate_all(
            "(lis) => lis.map((li) => [li.dataset.seq, li.querySelector('.meta').textContent"
            ".split(' · ')[0], li.querySelector('.body').textContent])"
        )
        assert said == [
            ["1", "Dr Ana Ruiz (Specialist)", "Does the rash spare the palms?"],
            ["2", "You", "Yes, the palms are clear."],
        ]
        await ctx.close()
