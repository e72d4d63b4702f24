from datetime import timedelta

from app.core.clock import utcnow
from tests.matrix_support import Row, World

API = "/api/v1"
TEAM = {
    "anonymous": 401,
    "admin": 200,
    "coordinator": 200,
    "clinician_a": 200,
    "clinician_b": 404,
    "specialist": 200,
    "interpreter": 404,
    "client_a": 200,
    "client_b": 404,
}


async def _case(w: World, **kw):
    return await w.f.make_case(w.org_a.id, assigned_specialist_id=w.users["specialist"].id, **kw)


async def _new_follow_up(w: World):
    case = await _case(w, status="assigned")
    return f"{API}/cases/{case.id}/follow-ups", {
        "due_at": (utcnow() + timedelta(days=3)).isoformat(),
        "description": "Recheck",
        "assignee_id": w.users["clinician_a"].id,
    }


async def _follow_up(w: World):
    from app.core.db import sessionmaker
    from app.followups.models import FollowUp

    case = await _case(w, status="assigned")
    async with sessionmaker()() as s:
        fu = FollowUp(
            case_id=case.id,
            organization_id=case.organization_id,
            specialty=case.specialty,
            due_at=utcnow(),
            description="Recheck",
            assignee_id=w.users["clinician_a"].id,
        )
        s.add(fu)
        await s.commit()
    return f"{API}/follow-ups/{fu.id}", None


async def _close_follow_up(w: World):
    url, _ = await _follow_up(w)
    return url, {"status": "done", "outcome": "Seen"}


async def _feedback(w: World):
    case = await _case(w, status="answered", answered_at=utcnow())
    return f"{API}/cases/{case.id}/feedback", {"usefulness": 4, "changed_management": True}


ROWS = [
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/follow-ups",
        _new_follow_up,
        {k: 201 if v == 200 else v for k, v in TEAM.items()},
    ),
    Row("GET", f"{API}/follow-ups/{{follow_up_id}}", _follow_up, TEAM),
    Row("PATCH", f"{API}/follow-ups/{{follow_up_id}}", _close_follow_up, TEAM),
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/feedback",
        _feedback,
        {
            "anonymous": 401,
            "admin": 403,
            "coordinator": 403,
            "clinician_a": 201,
            "clinician_b": 404,
            "specialist": 403,
            "interpreter": 404,
            "client_a": 201,
            "client_b": 404,
        },
    ),
]
