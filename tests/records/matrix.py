from tests.matrix_support import Row, World

API = "/api/v1"


async def _record(w: World):
    case = await w.f.make_case(
        w.org_a.id, assigned_specialist_id=w.users["specialist"].id, status="assigned"
    )
    return f"{API}/cases/{case.id}/record", None


ROWS = [
    Row(
        "GET",
        f"{API}/cases/{{case_id}}/record",
        _record,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 200,
            "interpreter": 404,
            "client_a": 200,
            "client_b": 404,
        },
    ),
]
