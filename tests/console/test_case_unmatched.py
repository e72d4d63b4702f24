"""A case nobody could be matched to says what happens next, in a real browser: an
emergency in urology, a specialty nobody in the programme holds. The clinician reads that
no specialist was found yet, that the coordinators have been told (they were: each holds a
`case_unmatched` notification) and what she can do meanwhile; the coordinator reads
"Nobody in this specialty" where the candidates would be, not in the folded list of who
was excluded, and no table of nobody."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_an_unmatched_case_says_what_happens_next(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator")
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "urology",
                    "urgency": "emergency",
                    "question": "Acute urinary retention, catheter will not pass: what now?",
                    "patient": {"reference": "HSR-7001", "age_years": 68, "sex": "male"},
                    "languages": ["es"],
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            case_id = r.json()["id"]
            # What the worker does with a new case: offer it. Nobody holds the specialty.
            r = await c.post(
                f"/api/v1/cases/{case_id}/offers",
                headers=h["clinician"],
                json={"auto": True, "count": 3},
            )
            r.raise_for_status()
            assert r.json()["items"] == [] and r.json()["case_status"] == "unmatched"
            r = await c.get("/api/v1/notifications", headers=h["coordinator"])
            r.raise_for_status()
            told = [n for n in r.json()["items"] if n["kind"] == "case_unmatched"]
            assert len(told) == 1, r.json()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        assert await page.inner_text("#case-status") == "Unmatched"
        said = page.locator("#case-unmatched")
        await said.wait_for()
        text = await said.inner_text()
        assert "No specialist could be found for this case yet" in text, text
        assert "coordinators have been told" in text, text
        assert "what your facility has" in text, text
        await ctx.close()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        nobody = page.locator("#candidates-none")
        await nobody.wait_for()
        assert "Nobody in this specialty" in await nobody.inner_text()
        assert await page.locator("#candidate-table").is_hidden()
        assert await page.locator("#candidate-table th").count() == 0
        # The clinician's line is hers: the coordinator is the one who was told.
        assert await page.locator("#case-unmatched").is_hidden()
        await ctx.close()
