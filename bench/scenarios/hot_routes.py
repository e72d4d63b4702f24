"""The other hot routes of issue 13, side by side with the cases routes: a specialist's
inbox of offers, a case's messages (read and write), a case read, and a facility read.

Each is a route on the ordinary request pipeline (dependencies, session, visibility rule,
audit row), beside the two cases routes.
"""

from typing import Any

from bench.scenarios import UNIQUE, Target


async def targets(ctx: Any) -> list[Target]:
    org = await ctx.f.make_org(name="Hot routes clinic")
    clinician = await ctx.f.make_user("clinician", organization_id=org.id)
    specialist = await ctx.f.make_user("specialist")
    assigned = await ctx.f.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    for i in range(30):
        offered = await ctx.f.make_case(org.id, status="offered", patient_reference=f"HR-{i}")
        await ctx.f.make_offer(offered.id, specialist.id)
    sp, cl = ctx.headers(specialist), ctx.headers(clinician)
    messages = f"/api/v1/cases/{assigned.id}/messages"
    return [
        Target("GET /api/v1/offers?status=pending", "GET", "/api/v1/offers?status=pending", sp),
        Target(
            "POST /api/v1/cases/{id}/messages",
            "POST",
            messages,
            headers=cl,
            body={"body": "Rash spreading after two days of cream.", "client_msg_id": UNIQUE},
        ),
        Target("GET /api/v1/cases/{id}/messages", "GET", f"{messages}?limit=50", sp),
        Target("GET /api/v1/cases/{id} (specialist)", "GET", f"/api/v1/cases/{assigned.id}", sp),
        Target("GET /api/v1/organizations/{id}", "GET", f"/api/v1/organizations/{org.id}", cl),
    ]
