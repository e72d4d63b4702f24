from app.core.principal import Role
from tests.matrix_support import Row, World
from tests.specialists.support import make_specialist, profile_body

API = "/api/v1"


async def _specialist(w: World):
    sp = await make_specialist(w.f)
    return f"{API}/specialists/{sp.id}", None


async def _profile(w: World):
    sp = await make_specialist(w.f)
    return f"{API}/specialists/{sp.id}/profile", profile_body()


async def _not_a_specialist(w: World):
    # Any user id that is not a specialist's is 404 for everyone.
    u = await w.f.make_user(Role.interpreter)
    return f"{API}/specialists/{u.id}", None


ROWS = [
    Row(
        "GET",
        f"{API}/specialists/{{specialist_id}}",
        _specialist,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "clinician_b": 200,
            "specialist": 200,
            "interpreter": 200,
            "client_a": 200,
            "client_b": 200,
        },
    ),
    Row(
        "PUT",
        f"{API}/specialists/{{specialist_id}}/profile",
        _profile,
        {
            "anonymous": 401,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 403,
            "clinician_b": 403,
            "specialist": 403,
            "interpreter": 403,
            "client_a": 403,
            "client_b": 403,
        },
    ),
]
