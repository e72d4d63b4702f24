from app.core.principal import Role
from tests.matrix_support import Row, World

API = "/api/v1"


async def _clinician_a(w: World):
    u = await w.f.make_user(Role.clinician, organization_id=w.org_a.id)
    return f"{API}/users/{u.id}", None


async def _interpreter(w: World):
    u = await w.f.make_user(Role.interpreter)
    return f"{API}/users/{u.id}", None


async def _patch_clinician_a(w: World):
    u = await w.f.make_user(Role.clinician, organization_id=w.org_a.id)
    return f"{API}/users/{u.id}", {"name": "Renamed"}


async def _switch_off_client(w: World):
    c = await w.f.make_client(w.org_a.id)
    return f"{API}/api-clients/{c.id}", {"active": False}


async def _rotate_client_secret(w: World):
    c = await w.f.make_client(w.org_a.id)
    return f"{API}/api-clients/{c.id}/rotate-secret", None


ROWS = [
    Row(
        "GET",
        f"{API}/users/{{user_id}}",
        _clinician_a,
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
    # An interpreter: the clinicians and the specialists who may add one to a case find
    # her; another interpreter does not, nor does a facility's app (she has no facility).
    Row(
        "GET",
        f"{API}/users/{{user_id}}",
        _interpreter,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 200,
            "specialist": 200,
            "interpreter": 404,
            "client_a": 404,
            "client_b": 404,
        },
    ),
    Row(
        "PATCH",
        f"{API}/users/{{user_id}}",
        _patch_clinician_a,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 403,
            "clinician_b": 404,
            "specialist": 404,
            "interpreter": 404,
            "client_a": 403,
            "client_b": 404,
        },
    ),
    # Switching a partner app off or on is the admin's alone.
    Row(
        "PATCH",
        f"{API}/api-clients/{{client_id}}",
        _switch_off_client,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 403,
            "clinician_a": 403,
            "clinician_b": 403,
            "specialist": 403,
            "interpreter": 403,
            "client_a": 403,
            "client_b": 403,
        },
    ),
    # So is giving one a new secret (the old one, and its tokens, refused at once).
    Row(
        "POST",
        f"{API}/api-clients/{{client_id}}/rotate-secret",
        _rotate_client_secret,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 403,
            "clinician_a": 403,
            "clinician_b": 403,
            "specialist": 403,
            "interpreter": 403,
            "client_a": 403,
            "client_b": 403,
        },
    ),
]
