"""A call in a room of three, in real browsers: the clinician chooses whom to call by name
(the specialist, not whoever the room happens to list first), the specialist's phone rings
with the clinician's name while the interpreter's stays quiet; the interpreter who calls
the specialist meanwhile is told at once, in words, that she is in another call (before, she
read "Calling…" for ever); the call the specialist answers connects."""

import asyncio

import httpx

from tests.console.support import (
    add_person,
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
    status_says,
)


async def test_the_caller_chooses_whom_and_a_second_caller_hears_busy(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Fever and a rash in a child: measles?")
            rosa = await add_person(c, "rosa", "Rosa Quispe", "interpreter", languages=["es"])
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["clinician"],
                json={"user_id": rosa["id"], "role": "interpreter"},
            )
            assert r.status_code == 201, r.text

        pages = {}
        for who, email in (
            ("clinician", prog.email("clinician")),
            ("specialist", prog.email("specialist")),
            ("interpreter", "rosa@console.example.org"),
        ):
            ctx = await b.new_context(viewport={"width": 360, "height": 740})
            page = pages[who] = await ctx.new_page()
            await signed_in(page, base, email)
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
        clin, spec, interp = pages["clinician"], pages["specialist"], pages["interpreter"]

        # Two others in the room: she chooses, by name.
        await clin.locator("#presence").filter(has_text="Rosa Quispe").wait_for()
        await clin.locator("#presence").filter(has_text="Dr Ana Ruiz").wait_for()
        await clin.wait_for_selector("#call-peer-box:not([hidden])")
        options = await clin.locator("#call-peer option").all_inner_texts()
        assert sorted(options) == ["Dr Ana Ruiz (Specialist)", "Rosa Quispe (Interpreter)"]
        # The ring names the caller as the specialist's page knows her: once it has her name.
        await spec.locator("#presence").filter(has_text="Dr Lucía Mamani").wait_for()
        await clin.select_option("#call-peer", label="Dr Ana Ruiz (Specialist)")
        await clin.click("#call-start")
        assert await clin.inner_text("#call-state") == "Calling Dr Ana Ruiz (Specialist)…"
        await spec.wait_for_selector("#call-answer:not([hidden])", timeout=15000)
        assert await spec.inner_text("#call-state") == (
            "Incoming call from Dr Lucía Mamani (Clinician)"
        )

        # The interpreter calls the specialist too: told at once that she is in a call.
        await interp.locator("#presence").filter(has_text="Dr Ana Ruiz").wait_for()
        await interp.select_option("#call-peer", label="Dr Ana Ruiz (Specialist)")
        await interp.click("#call-start")
        said = await status_says(interp, "Dr Ana Ruiz (Specialist) is in another call")
        assert "write in the room" in said
        await interp.wait_for_selector("#call-state[data-state=idle]")
        assert await interp.is_visible("#call-start")
        # Her call did not take the specialist's phone from the clinician's.
        assert await spec.get_attribute("#call-state", "data-state") == "ringing"
        assert "Dr Lucía Mamani" in await spec.inner_text("#call-state")

        await spec.click("#call-answer")
        for page in (clin, spec):
            await page.wait_for_selector("#call-state[data-state=connected]", timeout=30000)
        assert await interp.get_attribute("#call-state", "data-state") == "idle"
        await clin.click("#call-end")
        await spec.wait_for_selector("#call-state[data-state=idle]", timeout=10000)
        for page in pages.values():
            await page.context.close()


async def test_two_who_call_each_other_at_once_are_connected(app, factory):
    """Both press "Start video call" at the same moment: one of them (the one whose id
    sorts first) gives up her own call and rings with the other's, and answered, the call
    connects (before, each dropped the other's offer and both read "Calling…" for good)."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Blisters after a new medicine?")
        pages = []
        for who in ("clinician", "specialist"):
            ctx = await b.new_context()
            page = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
            pages.append(page)
        clin, spec = pages
        await clin.locator("#presence").filter(has_text="Dr Ana Ruiz").wait_for()
        await spec.locator("#presence").filter(has_text="Dr Lucía Mamani").wait_for()
        press = "document.getElementById('call-start').click()"
        await asyncio.gather(clin.evaluate(press), spec.evaluate(press))

        # The id that sorts first yields: hers rings, the other keeps calling.
        ids = {clin: prog.people["clinician"]["id"], spec: prog.people["specialist"]["id"]}
        yields = min(pages, key=lambda p: ids[p])
        keeps = spec if yields is clin else clin
        await yields.wait_for_selector("#call-answer:not([hidden])", timeout=15000)
        assert await yields.get_attribute("#call-state", "data-state") == "ringing"
        assert await keeps.get_attribute("#call-state", "data-state") == "calling"
        await yields.click("#call-answer")
        for page in pages:
            await page.wait_for_selector("#call-state[data-state=connected]", timeout=30000)
        await keeps.click("#call-end")
        await yields.wait_for_selector("#call-state[data-state=idle]", timeout=10000)
        for page in pages:
            await page.context.close()
