"""The coordinator reads each candidate in words, in French: that an interpreter will be
needed (a French and Haitian Creole case offered to someone who speaks Italian, English
and Spanish), when she is next available ("disponible dans 20 h", from the API's
`next_window_in_minutes`), her open cases as "0 sur 4", and that she has helped this
facility before; the score's parts stay, folded away."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, clinician_case_page, seeded_console


async def test_each_candidate_is_described_in_her_words(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        spec = prog.people["specialist"]
        # She helped this facility before (an answered case of theirs).
        await factory.make_case(
            prog.org["id"],
            status="answered",
            answered_at=utcnow() - timedelta(days=30),
            assigned_specialist_id=spec["id"],
        )
        tomorrow = (utcnow() + timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator")
            r = await c.put(
                f"/api/v1/specialists/{spec['id']}/profile",
                headers=h["coordinator"],
                json={
                    "specialties": ["dermatology"],
                    "languages": ["it", "en", "es"],
                    "timezone": "UTC",
                    "availability": [
                        {
                            "weekday": tomorrow.weekday(),
                            "start": tomorrow.strftime("%H:00"),
                            "end": (tomorrow + timedelta(hours=2)).strftime("%H:00"),
                        }
                    ],
                    "time_off": [],
                    "max_active_cases": 4,
                    "accepting": True,
                    "verified": True,
                },
            )
            r.raise_for_status()
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "Lésions hypopigmentées du dos : lèpre ?",
                    "patient": {"reference": "JUM-0042", "age_years": 9, "sex": "male"},
                    "languages": ["fr", "ht"],
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            case_id = r.json()["id"]
            r = await c.get(f"/api/v1/cases/{case_id}/candidates", headers=h["coordinator"])
            r.raise_for_status()
            [them] = r.json()["items"]
            assert them["interpreter_needed"] and not them["available_now"], them
            assert them["parts"]["continuity"] == 0.5, them
            hours = round(them["next_window_in_minutes"] / 60)
            assert 19 <= hours <= 20, them

        ctx, page = await clinician_case_page(b, base, prog, case_id, lang="fr", who="coordinator")
        row = page.locator("#candidate-table tbody tr", has_text="Dr Ana Ruiz")
        await row.wait_for()
        text = await row.inner_text()
        assert "Interprète nécessaire" in text, text
        assert "ne parle pas français ou créole haïtien" in text, text
        assert f"Disponible dans {hours} h" in text, text
        assert "0 sur 4" in text, text
        assert "A déjà aidé cet établissement" in text, text
        assert "Disponible maintenant" not in text and "Non" not in text.split(), text
        # The numbers stay, folded: "charge 0,75" no longer stands beside "0 sur 4".
        unfold = row.locator("button[aria-expanded]", has_text="Détail du score")
        assert await unfold.get_attribute("aria-expanded") == "false"
        parts = page.locator(f"#{await unfold.get_attribute('aria-controls')}")
        assert await parts.is_hidden()
        assert "charge" not in text
        await unfold.click()
        assert await unfold.get_attribute("aria-expanded") == "true"
        assert "charge" in await parts.inner_text()
        await ctx.close()
