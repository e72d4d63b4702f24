"""A call nobody answers, in real browsers: after 45 seconds of ringing the caller is told,
in words, that the specialist did not answer, and both sides are back to "No call"; the
specialist's page says she missed a call, and from whom, until her next call. Before, the
caller read "Calling…" until she hung up herself. The browsers' clocks are moved on, not
waited for. A call answered on one of her devices stops the others ringing."""

import httpx

from tests.console.support import assigned_case, bearers, in_the_room, seeded_console, status_says


async def test_an_unanswered_call_stops_and_each_side_is_told(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Swollen knee after a fall: tap it?")

        # The pages' timers run on clocks the test moves.
        clin = await in_the_room(b, base, prog.email("clinician"), case_id, clock=True)
        spec = await in_the_room(b, base, prog.email("specialist"), case_id, clock=True)

        await clin.locator("#presence").filter(has_text="Dr Ana Ruiz").wait_for()
        await clin.click("#call-start")
        await spec.wait_for_selector("#call-answer:not([hidden])", timeout=15000)
        await clin.clock.run_for(30_000)  # still ringing after half a minute
        assert await clin.get_attribute("#call-state", "data-state") == "calling"

        await clin.clock.run_for(16_000)
        said = await status_says(clin, "Dr Ana Ruiz (Specialist) did not answer")
        assert "write in the room" in said, said
        await clin.wait_for_selector("#call-state[data-state=idle]")
        assert await clin.is_visible("#call-start")
        # Her phone stops ringing, and she can see she missed a call, and whose.
        await spec.wait_for_selector("#call-state[data-state=idle]", timeout=10000)
        await status_says(spec, "Missed call from Dr Lucía Mamani (Clinician).")
        assert await spec.locator("#call-answer").is_hidden()
        # Still there when she comes back: the passing line has gone, the call's own has not.
        await spec.clock.run_for(60_000)
        said = await spec.inner_text("#call-state")
        assert said == "Missed call from Dr Lucía Mamani (Clinician).", said


async def test_answered_on_one_device_the_other_stops_ringing(app, factory):
    """Her phone and her laptop both ring; she answers on the phone: the laptop stops
    ringing at once, and does not tell her she missed a call."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy papules on the wrists: scabies?")

        clin = await in_the_room(b, base, prog.email("clinician"), case_id)
        phone = await in_the_room(b, base, prog.email("specialist"), case_id)
        laptop = await in_the_room(b, base, prog.email("specialist"), case_id)

        await clin.locator("#presence").filter(has_text="Dr Ana Ruiz").wait_for()
        await clin.click("#call-start")
        for device in (phone, laptop):
            await device.wait_for_selector("#call-answer:not([hidden])", timeout=15000)
        await phone.click("#call-answer")
        await laptop.wait_for_selector("#call-state[data-state=idle]", timeout=10000)
        assert await laptop.inner_text("#call-state") == "No call."
        assert "Missed call" not in await laptop.inner_text("#status")
        for page in (clin, phone):
            await page.wait_for_selector("#call-state[data-state=connected]", timeout=30000)
