"""A message written in a case's room while the link was down, on a page she then left,
goes when the link returns from whatever page she has open, once. (It waited until she
opened that case again, with nothing to say so.) In a real browser."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    left_unsent,
    ready,
    seeded_console,
    status_says,
)


async def test_a_message_written_offline_goes_from_another_page(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Rash after the new tablets?")
        ctx = await left_unsent(
            b, base, prog.email("clinician"), case_id, "Fever 38.5 since last night."
        )
        other = await ctx.new_page()
        async with other.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith(f"/cases/{case_id}/messages")
        ) as sent:
            await other.goto(f"{base}/cases")
            await ready(other, "cases")
        assert (await sent.value).status == 201
        # The page says so once the answer is read (after the 201, not with it).
        assert "without a connection" in await status_says(other, "without a connection")

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/messages", headers=h["specialist"])
            bodies = [m["body"] for m in r.json()["items"]]
        assert bodies == ["Fever 38.5 since last night."]
        # Nothing is left to send: the case's page shows it sent, not waiting.
        await other.goto(f"{base}/cases/{case_id}")
        await ready(other, "case")
        await other.wait_for_selector("#messages li[data-seq]")
        assert await other.locator("#messages li.pending").count() == 0
