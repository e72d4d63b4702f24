"""A case's languages and its facility's country and languages are named in the viewer's
language, in a real browser: a clinician in Spanish reads "español, quechua" and
"Argentina", a specialist in French "espagnol, quechua" and "Argentine", never the codes
("es, qu", "AR") the API carries."""

from typing import Any

import httpx

from tests.console.support import bearers, pending_offer, ready, seeded_console, signed_in


async def _values(page: Any, facts: str) -> list[str]:
    """The values of a facts list (its <dd>s), in order."""
    return list(await page.locator(f"{facts} dd").all_inner_texts())


async def test_languages_and_country_by_name_in_spanish_and_french(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):  # Salta: AR, languages ["es"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            r = await c.patch(
                f"/api/v1/organizations/{prog.org['id']}",
                headers=h["coordinator"],
                json={"languages": ["es", "qu"]},
            )
            r.raise_for_status()
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "Scaly patches on the cheeks of a shepherd?",
                    "patient": {"reference": "HSR-5150", "age_years": 52, "sex": "male"},
                    "languages": ["es", "qu"],
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            case_id = r.json()["id"]
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            r.raise_for_status()

        for who, locale, languages, country in (
            ("clinician", "es-AR", "español, quechua", "Argentina"),
            ("specialist", "fr-FR", "espagnol, quechua", "Argentine"),
        ):
            ctx = await b.new_context(locale=locale)
            page = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            await page.wait_for_selector("#facility:not([hidden])")
            facts = await _values(page, "#case-facts")
            assert languages in facts, facts
            assert "es, qu" not in facts
            # Name, country, the time there, languages.
            facility = await _values(page, "#facility-facts")
            assert (facility[1], facility[3]) == (country, languages), facility
            await ctx.close()
