from tests.matrix_support import Row, World
from tests.notes.helpers import make_note

API = "/api/v1"
WRITE = {
    "anonymous": 401,
    "admin": 403,
    "coordinator": 403,
    "clinician_a": 403,
    "clinician_b": 404,
    "specialist": 200,
    "interpreter": 404,
    "client_a": 403,
    "client_b": 404,
}
READ = {
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


async def _case(w: World) -> str:
    case = await w.f.make_case(
        w.org_a.id, assigned_specialist_id=w.users["specialist"].id, status="assigned"
    )
    return case.id


async def _new_note(w: World):
    return f"{API}/cases/{await _case(w)}/notes", {"kind": "consult", "assessment": "x"}


async def _draft(w: World):
    note = await make_note(await _case(w), w.users["specialist"].id)
    return f"{API}/notes/{note.id}", None


async def _notes_of_case(w: World):
    case_id = await _case(w)
    await make_note(case_id, w.users["specialist"].id)
    return f"{API}/cases/{case_id}/notes", None


async def _patch(w: World):
    url, _ = await _draft(w)
    return url, {"assessment": "changed"}


async def _versions(w: World):
    url, _ = await _draft(w)
    return f"{url}/versions", None


async def _sign(w: World):
    url, _ = await _draft(w)
    return f"{url}/sign", None


async def _acknowledge(w: World):
    note = await make_note(await _case(w), w.users["specialist"].id, signed=True)
    return f"{API}/notes/{note.id}/acknowledge", None


ROWS = [
    Row("POST", f"{API}/cases/{{case_id}}/notes", _new_note, {**WRITE, "specialist": 201}),
    Row("GET", f"{API}/cases/{{case_id}}/notes", _notes_of_case, READ),
    Row("GET", f"{API}/notes/{{note_id}}", _draft, READ),
    Row(
        "PATCH",
        f"{API}/notes/{{note_id}}",
        _patch,
        WRITE,
        request_kw={"headers": {"If-Match": '"1"'}},
    ),
    Row("GET", f"{API}/notes/{{note_id}}/versions", _versions, READ),
    Row(
        "POST",
        f"{API}/notes/{{note_id}}/sign",
        _sign,
        WRITE,
        request_kw={"headers": {"If-Match": '"1"'}},
    ),
    Row(
        "POST",
        f"{API}/notes/{{note_id}}/acknowledge",
        _acknowledge,
        {
            "anonymous": 401,
            "admin": 403,
            "coordinator": 403,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 403,
            "interpreter": 404,
            "client_a": 200,
            "client_b": 404,
        },
    ),
]
