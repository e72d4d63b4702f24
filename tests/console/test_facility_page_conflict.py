"""Two clinicians of one facility keep what it has on site current, in a real browser: the
facility page saves with If-Match, and a version someone else saved meanwhile is never
overwritten unasked. Theirs is shown beside her form, hers stays in it, and she keeps
hers (saved over theirs, knowingly) or takes theirs."""

from typing import Any

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def _server(base: str, org_id: str, h: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        r = await c.get(f"/api/v1/organizations/{org_id}", headers=h)
        r.raise_for_status()
        return r.json()


async def _their_save(base: str, org_id: str, h: dict[str, str], text: str, tags: list[str]):
    """The other clinician's save, from the facility as she last read it."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        tag = (await c.get(f"/api/v1/organizations/{org_id}", headers=h)).headers["etag"]
        r = await c.patch(
            f"/api/v1/organizations/{org_id}",
            headers={**h, "If-Match": tag},
            json={"local_resources": {"text": text, "tags": tags}},
        )
        r.raise_for_status()


def _patch(response: Any) -> bool:
    return response.request.method == "PATCH" and "/api/v1/organizations/" in response.url


async def test_a_save_made_meanwhile_is_shown_beside_hers_and_never_overwritten_unasked(
    app, factory
):
    async with seeded_console(app, factory) as (base, b, prog):  # "X-ray, basic labs"
        org_id = prog.org["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = (await bearers(c, prog, "clinician"))["clinician"]
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/facility")
        await ready(page, "facility")
        assert await page.input_value("#res-text") == "X-ray, basic labs"
        assert await page.locator("#resources-choice").is_hidden()

        # Her colleague saves while she types; her save is refused, not applied.
        await _their_save(base, org_id, h, "X-ray, basic labs, ultrasound", ["x-ray", "us"])
        await page.fill("#res-text", "X-ray, basic labs, malaria RDT")
        await page.fill("#res-tags", "x-ray, malaria-rdt")
        async with page.expect_response(_patch) as answer:
            await page.click("#resources-form button[type=submit]")
        assert (await answer.value).status == 412
        await page.wait_for_selector("#resources-choice:not([hidden])")
        shown = await page.inner_text("#resources-choice-fields")
        assert "X-ray, basic labs, ultrasound" in shown and "x-ray, us" in shown, shown
        assert await page.input_value("#res-text") == "X-ray, basic labs, malaria RDT"
        assert await page.input_value("#res-tags") == "x-ray, malaria-rdt"
        saved = await _server(base, org_id, h)
        assert saved["local_resources"] == {
            "text": "X-ray, basic labs, ultrasound",
            "tags": ["x-ray", "us"],
        }
        assert saved["version"] == 2

        # She merges their line into hers and keeps hers: it lands on their version.
        await page.fill("#res-text", "X-ray, basic labs, ultrasound, malaria RDT")
        await page.click("#resources-choice-actions button.keep-mine")
        await page.wait_for_selector("#resources-choice", state="hidden")
        saved = await _server(base, org_id, h)
        assert saved["local_resources"] == {
            "text": "X-ray, basic labs, ultrasound, malaria RDT",
            "tags": ["x-ray", "malaria-rdt"],
        }
        assert saved["version"] == 3

        # Saved on the version she now holds, her next save needs no choice.
        await page.fill("#res-tags", "x-ray, us, malaria-rdt")
        async with page.expect_response(_patch) as answer:
            await page.click("#resources-form button[type=submit]")
        assert (await answer.value).status == 200
        await page.wait_for_selector("#status:has-text('Saved')")
        saved = await _server(base, org_id, h)
        assert saved["local_resources"]["tags"] == ["x-ray", "us", "malaria-rdt"]
        assert saved["version"] == 4
        assert await page.locator("#resources-choice").is_hidden()

        # Again someone saves meanwhile; this time she takes theirs: nothing of hers is sent.
        await _their_save(base, org_id, h, "Ultrasound broken until June", ["x-ray"])
        await page.fill("#res-text", "Everything works")
        await page.click("#resources-form button[type=submit]")
        await page.wait_for_selector("#resources-choice:not([hidden])")
        await page.click("#resources-choice-actions button.take-theirs")
        assert await page.locator("#resources-choice").is_hidden()
        assert await page.input_value("#res-text") == "Ultrasound broken until June"
        assert await page.input_value("#res-tags") == "x-ray"
        saved = await _server(base, org_id, h)
        assert saved["local_resources"]["text"] == "Ultrasound broken until June"
        assert saved["version"] == 5
        await ctx.close()
