"""Cases' hot paths (issue 3, "Numbers"): intake and the clinician's case list.

POST /cases runs the whole path: bearer token, validation, Idempotency-Key (a fresh one per
request), the insert, the case.submitted event and the audit row, in one transaction.
GET /cases?limit=50 lists a facility's newest 50 cases through the visibility rule.
"""

from typing import Any

from bench.scenarios import UNIQUE, Target


async def targets(ctx: Any) -> list[Target]:
    org = await ctx.f.make_org(name="Bench clinic")
    other = await ctx.f.make_org(name="Another clinic")
    clinician = await ctx.f.make_user("clinician", organization_id=org.id)
    for i in range(120):
        await ctx.f.make_case(org.id, patient_reference=f"MRN-{i:05d}")
        await ctx.f.make_case(other.id, patient_reference=f"MRN-{i:05d}")
    one = await ctx.f.make_case(org.id, patient_reference="MRN-ONE")
    body = {
        "specialty": "dermatology",
        "urgency": "routine",
        "question": "Spreading rash on both forearms for three weeks; what treatment? " + UNIQUE,
        "summary": "Itchy, no fever. Tried topical hydrocortisone without effect.",
        "patient": {"reference": "MRN-004211", "age_years": 34, "sex": "female"},
        "languages": ["es"],
        "interpreter_needed": False,
        "consent": {"obtained": True, "method": "verbal"},
    }
    h = ctx.headers(clinician)
    return [
        Target("POST /api/v1/cases", "POST", "/api/v1/cases", headers=h, body=body),
        Target("GET /api/v1/cases?limit=50", "GET", "/api/v1/cases?limit=50", headers=h),
        Target("GET /api/v1/cases/{id}", "GET", f"/api/v1/cases/{one.id}", headers=h),
    ]
