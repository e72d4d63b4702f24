"""The other hot routes of issue 13, side by side with the cases routes: a specialist's
inbox of offers and the accept of one, a case's messages (read and write: on one case, and
spread over sixteen), a case read, a signed consult note, the facility's follow-ups, and a
facility read. (`GET /me` is in the foundation scenario.)

Each is a route on the ordinary request pipeline (dependencies, session, visibility rule,
audit row), beside the two cases routes.
"""

from datetime import timedelta
from typing import Any

from bench.scenarios import UNIQUE, Target

# Offer accept changes the case for good: each request accepts an offer of its own, from a
# pool large enough for a run (wrk sends well under this many in 10 s on this machine; a
# request past the pool would accept its last offer again, a 409 counted as an error).
ACCEPT_POOL = 12_000
SPECIALISTS = 120  # each takes up to 100 cases (the profile's limit)


async def targets(ctx: Any) -> list[Target]:
    from app.core.clock import utcnow
    from app.followups.models import FollowUp
    from app.notes.models import Note
    from tests.specialists.support import make_specialist

    org = await ctx.f.make_org(name="Hot routes clinic")
    clinician = await ctx.f.make_user("clinician", organization_id=org.id)
    specialist = await ctx.f.make_user("specialist")
    assigned = await ctx.f.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    # The same write spread over consults going on at once (sixteen connections, sixteen
    # cases): a case's writers queue on its message number (app/consults/service.py), so
    # the target above measures that queue as much as the route.
    rooms = [
        await ctx.f.make_case(
            org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
        )
        for _ in range(15)
    ]
    for i in range(30):
        offered = await ctx.f.make_case(org.id, status="offered", patient_reference=f"HR-{i}")
        await ctx.f.make_offer(offered.id, specialist.id)
    now = utcnow()
    async with ctx.session() as s:
        note = Note(
            case_id=assigned.id,
            kind="consult",
            status="signed",
            author_id=specialist.id,
            assessment="Likely tinea corporis; no systemic signs.",
            recommendations="Topical clotrimazole twice daily for four weeks.",
            follow_up_plan="Review at two weeks by the local team.",
            signed_at=now,
            signed_by_id=specialist.id,
        )
        s.add(note)
        for i in range(20):
            s.add(
                FollowUp(
                    case_id=assigned.id,
                    organization_id=org.id,
                    specialty="dermatology",
                    due_at=now + timedelta(days=14 + i),
                    description=f"Check the rash has cleared ({i}).",
                    assignee_id=clinician.id,
                    created_by_id=specialist.id,
                )
            )
        await s.commit()
        note_id = note.id
    sp, cl = ctx.headers(specialist), ctx.headers(clinician)
    messages = f"/api/v1/cases/{assigned.id}/messages"
    return [
        Target("GET /api/v1/offers?status=pending", "GET", "/api/v1/offers?status=pending", sp),
        await _accept(ctx, org.id, make_specialist),
        Target(
            "POST /api/v1/cases/{id}/messages",
            "POST",
            messages,
            headers=cl,
            body={"body": "Rash spreading after two days of cream.", "client_msg_id": UNIQUE},
        ),
        Target(
            "POST /api/v1/cases/{id}/messages (16 cases)",
            "POST",
            messages,
            headers=cl,
            body={"body": "Fever down since this morning.", "client_msg_id": UNIQUE},
            paths=(messages, *(f"/api/v1/cases/{c.id}/messages" for c in rooms)),
        ),
        Target("GET /api/v1/cases/{id}/messages", "GET", f"{messages}?limit=50", sp),
        Target("GET /api/v1/cases/{id} (specialist)", "GET", f"/api/v1/cases/{assigned.id}", sp),
        Target("GET /api/v1/notes/{id}", "GET", f"/api/v1/notes/{note_id}", cl),
        Target("GET /api/v1/follow-ups", "GET", "/api/v1/follow-ups?limit=20", cl),
        Target("GET /api/v1/organizations/{id}", "GET", f"/api/v1/organizations/{org.id}", cl),
    ]


async def _accept(ctx: Any, org_id: str, make_specialist: Any) -> Target:
    """POST /offers/{id}/accept over a pool of pending offers, one case each, spread over
    specialists with room for them; each request accepts the next offer of the pool."""
    from app.cases.models import Case, Offer
    from app.core.clock import utcnow

    people = [await make_specialist(ctx.f, max_active_cases=100) for _ in range(SPECIALISTS)]
    tokens = [ctx.headers(p)["Authorization"] for p in people]
    pool: list[tuple[str, int]] = []
    now = utcnow()
    for start in range(0, ACCEPT_POOL, 1000):
        async with ctx.session() as s:
            for i in range(start, min(start + 1000, ACCEPT_POOL)):
                case = Case(
                    organization_id=org_id,
                    status="offered",
                    specialty="dermatology",
                    urgency="routine",
                    question="Spreading rash on both forearms; treatment?",
                    summary="Three weeks, itchy, no fever.",
                    patient_reference=f"ACC-{i}",
                    languages=["en"],
                    consent_method="verbal",
                    respond_by=now + timedelta(hours=72),
                )
                s.add(case)
                await s.flush()
                who = i % SPECIALISTS
                offer = Offer(
                    case_id=case.id,
                    specialist_id=people[who].id,
                    expires_at=now + timedelta(hours=12),
                )
                s.add(offer)
                await s.flush()
                pool.append((offer.id, who))
            await s.commit()
    return Target(
        "POST /api/v1/offers/{id}/accept",
        "POST",
        f"/api/v1/offers/{pool[-1][0]}/accept",
        each=tuple(
            (f"/api/v1/offers/{offer_id}/accept", {"Authorization": tokens[who]})
            for offer_id, who in pool
        ),
    )
