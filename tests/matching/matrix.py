from app.core.db import sessionmaker
from app.specialists import service as specialists
from tests.matrix_support import Row, World
from tests.specialists.support import SYSTEM, profile_body

API = "/api/v1"


async def _case(w: World, **kw):
    return await w.f.make_case(w.org_a.id, **kw)


async def _candidates(w: World):
    case = await _case(w)
    return f"{API}/cases/{case.id}/candidates", None


async def _offers(w: World):
    case = await _case(w)
    return f"{API}/cases/{case.id}/offers", {"auto": True, "count": 1}


async def _offer_to_world_specialist(w: World) -> str:
    """A pending offer of a facility A case to the matrix's own specialist."""
    sp = w.users["specialist"]
    async with sessionmaker()() as s:
        await specialists.put_profile(
            s, SYSTEM, sp.id, {**profile_body(), "time_off": [], "verified": True}
        )
        await s.commit()
    case = await _case(w, status="offered")
    offer = await w.f.make_offer(case.id, sp.id)
    return offer.id


async def _get_offer(w: World):
    return f"{API}/offers/{await _offer_to_world_specialist(w)}", None


async def _accept(w: World):
    return f"{API}/offers/{await _offer_to_world_specialist(w)}/accept", None


async def _decline(w: World):
    return f"{API}/offers/{await _offer_to_world_specialist(w)}/decline", {"reason": "busy"}


# The offered specialist answers; staff and the facility see the offer but may not answer it.
_ANSWER = {
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

ROWS = [
    Row(
        "GET",
        f"{API}/cases/{{case_id}}/candidates",
        _candidates,
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
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/offers",
        _offers,
        {
            "anonymous": 401,
            "admin": 201,
            "coordinator": 201,
            "clinician_a": 201,
            "clinician_b": 404,
            "specialist": 404,
            "interpreter": 404,
            "client_a": 201,
            "client_b": 404,
        },
    ),
    Row(
        "GET",
        f"{API}/offers/{{offer_id}}",
        _get_offer,
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
    Row("POST", f"{API}/offers/{{offer_id}}/accept", _accept, _ANSWER),
    Row("POST", f"{API}/offers/{{offer_id}}/decline", _decline, _ANSWER),
]
