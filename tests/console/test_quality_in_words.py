"""The quality page says in words what its figures are (in French here): a period with
nothing in it says so instead of a page of zeros and dashes; the slow end of the delays is
named ("90e centile", it said "p90"), usefulness is out of 5, and follow-ups show how many
fell due, how many of those were done, and how many were planned again once due."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_the_quality_page_says_what_its_figures_are(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician = prog.people["clinician"]
        case = await factory.make_case(
            prog.org["id"],
            status="answered",
            answered_at=utcnow(),
            submitted_by_id=clinician["id"],
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = (await bearers(c, prog, "clinician"))["clinician"]
            r = await c.post(
                f"/api/v1/cases/{case.id}/feedback",
                headers=h,
                json={"usefulness": 4, "changed_management": True},
            )
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/cases/{case.id}/follow-ups",
                headers=h,
                json={
                    "due_at": (utcnow() + timedelta(hours=2)).isoformat(),
                    "description": "Revoir la plaie",
                    "assignee_id": clinician["id"],
                },
            )
            r.raise_for_status()
            r = await c.patch(
                f"/api/v1/follow-ups/{r.json()['id']}",
                headers={**h, "If-Match": r.headers["etag"]},
                json={"status": "done", "outcome": "Cicatrisée"},
            )
            r.raise_for_status()
            # Another fell due unseen, and was planned again for tomorrow: late by its plan.
            r = await c.post(
                f"/api/v1/cases/{case.id}/follow-ups",
                headers=h,
                json={
                    "due_at": (utcnow() + timedelta(hours=1)).isoformat(),
                    "description": "Changer le pansement",
                    "assignee_id": clinician["id"],
                },
            )
            r.raise_for_status()
            clock.advance(timedelta(hours=3))
            r = await c.patch(
                f"/api/v1/follow-ups/{r.json()['id']}",
                headers={**h, "If-Match": r.headers["etag"]},
                json={"due_at": (utcnow() + timedelta(days=1)).isoformat()},
            )
            r.raise_for_status()

        ctx = await b.new_context(locale="fr-FR")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), lang="fr")
        await page.goto(f"{base}/quality")
        await ready(page, "quality")
        cases = page.locator("#figure-cases")
        await cases.wait_for()
        assert "Utilité (moyenne)\u00a0: 4 / 5" in await cases.inner_text()
        assert await page.locator("#charts", has_text="90e centile").count() == 1
        assert "p90" not in await page.locator("#charts").inner_text()
        follow_ups = page.locator("#figure-follow-ups")
        said = await follow_ups.inner_text()
        assert "1 prévu" in said and "100 % faits" in said, said
        # The one moved once due is not out of sight, though no longer due.
        assert "Replanifiés après l’échéance\u00a0: 1" in said, said

        # A year before anything: said, not zeros and dashes.
        year_ago = utcnow().date() - timedelta(days=365)
        await page.fill("#q-from", year_ago.isoformat())
        await page.fill("#q-to", (year_ago + timedelta(days=30)).isoformat())
        await page.click("#quality-filter button[type=submit]")
        await cases.filter(has_text="Aucun dossier envoyé sur cette période.").wait_for()
        assert await page.locator("#charts svg").count() == 0
        await follow_ups.filter(has_text="Aucun suivi prévu sur cette période.").wait_for()
        assert "—" not in await page.locator("#charts").inner_text()
        await ctx.close()
