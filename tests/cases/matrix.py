"""Access matrix rows for every case route with an id (see tests/matrix_support.py).

The world's specialist holds a pending offer on the target case where that matters (so they
see its summary and nothing more), and its interpreter is a participant where noted."""

from app.core.principal import Role
from tests.cases.factories import make_attachment
from tests.cases.support import PNG
from tests.matrix_support import Row, World

API = "/api/v1"


async def _offered_case(w: World):
    case = await w.f.make_case(w.org_a.id, status="offered")
    await w.f.make_offer(case.id, w.users["specialist"].id)
    return case


async def _read(w: World):
    case = await _offered_case(w)
    return f"{API}/cases/{case.id}", None


async def _attachments(w: World):
    case = await _offered_case(w)
    await w.f.add_participant(case.id, w.users["interpreter"].id)
    return f"{API}/cases/{case.id}/attachments", None


async def _content(w: World):
    case = await _offered_case(w)
    att = await make_attachment(case.id)
    return f"{API}/attachments/{att.id}/content", None


async def _add_participant(w: World):
    case = await w.f.make_case(w.org_a.id, assigned_specialist_id=w.users["specialist"].id)
    newcomer = await w.f.make_user(Role.interpreter)
    return f"{API}/cases/{case.id}/participants", {"user_id": newcomer.id, "role": "interpreter"}


async def _participants(w: World):
    case = await w.f.make_case(w.org_a.id)
    await w.f.add_participant(case.id, w.users["interpreter"].id)
    return f"{API}/cases/{case.id}/participants", None


async def _cancel(w: World):
    case = await _offered_case(w)
    return f"{API}/cases/{case.id}/cancel", {"reason": "Transferred to the district hospital"}


async def _close(w: World):
    other = await w.f.make_user(Role.specialist)
    case = await w.f.make_case(w.org_a.id, status="answered", assigned_specialist_id=other.id)
    return f"{API}/cases/{case.id}/close", {"outcome": "Improved on the advised treatment"}


FULL_VIEWERS_200 = {
    "anonymous": 401,
    "admin": 200,
    "coordinator": 200,
    "clinician_a": 200,
    "clinician_b": 404,
    "client_a": 200,
    "client_b": 404,
}

ROWS = [
    # The offered specialist sees the summary; an unrelated interpreter sees nothing.
    Row(
        "GET",
        f"{API}/cases/{{case_id}}",
        _read,
        {**FULL_VIEWERS_200, "specialist": 200, "interpreter": 404},
    ),
    # Attachments are for full viewers only: the offered specialist gets 404.
    Row(
        "GET",
        f"{API}/cases/{{case_id}}/attachments",
        _attachments,
        {**FULL_VIEWERS_200, "specialist": 404, "interpreter": 200},
    ),
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/attachments",
        _attachments,
        {
            "anonymous": 401,
            "admin": 201,
            "coordinator": 201,
            "clinician_a": 201,
            "clinician_b": 404,
            "specialist": 404,
            "interpreter": 201,
            "client_a": 201,
            "client_b": 404,
        },
        request_kw={"files": {"file": ("rash.png", PNG, "image/png")}},
    ),
    Row(
        "GET",
        f"{API}/attachments/{{attachment_id}}/content",
        _content,
        {**FULL_VIEWERS_200, "specialist": 404, "interpreter": 404},
    ),
    # Staff, the facility and the assigned specialist add people; others may not.
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/participants",
        _add_participant,
        {
            "anonymous": 401,
            "admin": 201,
            "coordinator": 201,
            "clinician_a": 201,
            "clinician_b": 404,
            "specialist": 201,
            "interpreter": 404,
            "client_a": 201,
            "client_b": 404,
        },
    ),
    Row(
        "GET",
        f"{API}/cases/{{case_id}}/participants",
        _participants,
        {**FULL_VIEWERS_200, "specialist": 404, "interpreter": 200},
    ),
    # The offered specialist sees the case but may not cancel it: 403.
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/cancel",
        _cancel,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 403,
            "interpreter": 404,
            "client_a": 200,
            "client_b": 404,
        },
    ),
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/close",
        _close,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 404,
            "interpreter": 404,
            "client_a": 200,
            "client_b": 404,
        },
    ),
]
