from tests.matrix_support import Row, World

API = "/api/v1"


async def _org_a(w: World):
    return f"{API}/organizations/{w.org_a.id}", None


async def _rename_org_a(w: World):
    return f"{API}/organizations/{w.org_a.id}", {"name": "Renamed facility"}


ROWS = [
    Row(
        "GET",
        f"{API}/organizations/{{organization_id}}",
        _org_a,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 200,
            "interpreter": 200,
            "client_a": 200,
            "client_b": 404,
        },
    ),
    Row(
        "PATCH",
        f"{API}/organizations/{{organization_id}}",
        _rename_org_a,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 404,
            "specialist": 403,
            "interpreter": 403,
            "client_a": 403,
            "client_b": 404,
        },
    ),
]
