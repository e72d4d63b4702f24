from tests.matrix_support import Row, World

API = "/api/v1"


async def _assigned_case(w: World) -> str:
    case = await w.f.make_case(w.org_a.id, assigned_specialist_id=w.users["specialist"].id)
    await w.f.add_participant(case.id, w.users["interpreter"].id)
    return case.id


async def _list(w: World):
    return f"{API}/cases/{await _assigned_case(w)}/messages", None


async def _post(w: World):
    from app.core.db import new_id

    return (
        f"{API}/cases/{await _assigned_case(w)}/messages",
        {"body": "Please repeat the CBC.", "client_msg_id": new_id("cm")},
    )


# Everyone who sees the case in full may read and write its conversation.
SEE_ALL = {"anonymous": 401, "clinician_b": 404, "client_b": 404}

ROWS = [
    Row(
        "GET",
        f"{API}/cases/{{case_id}}/messages",
        _list,
        {
            **SEE_ALL,
            "admin": 200,
            "coordinator": 200,
            "clinician_a": 200,
            "specialist": 200,
            "interpreter": 200,
            "client_a": 200,
        },
    ),
    Row(
        "POST",
        f"{API}/cases/{{case_id}}/messages",
        _post,
        {
            **SEE_ALL,
            "admin": 201,
            "coordinator": 201,
            "clinician_a": 201,
            "specialist": 201,
            "interpreter": 201,
            "client_a": 201,
        },
    ),
]
