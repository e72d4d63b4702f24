"""The foundation's hot paths: who am I, list facilities, register a facility."""

from typing import Any

from bench.scenarios import UNIQUE, Target


async def targets(ctx: Any) -> list[Target]:
    org = await ctx.f.make_org(name="Bench clinic")
    for i in range(60):
        await ctx.f.make_org(name=f"Bench facility {i}")
    admin = await ctx.f.make_user("admin")
    clinician = await ctx.f.make_user("clinician", organization_id=org.id)
    return [
        Target("GET /api/v1/me", "GET", "/api/v1/me", headers=ctx.headers(clinician)),
        Target(
            "GET /api/v1/organizations?limit=50",
            "GET",
            "/api/v1/organizations?limit=50",
            headers=ctx.headers(admin),
        ),
        Target(
            "POST /api/v1/organizations",
            "POST",
            "/api/v1/organizations",
            headers=ctx.headers(admin),
            body={
                "name": f"Clinic {UNIQUE}",
                "country": "KE",
                "timezone": "Africa/Nairobi",
                "languages": ["sw", "en"],
                "local_resources": {"text": "basic lab", "tags": ["cbc"]},
            },
        ),
    ]
