"""A small world for note tests: a facility, its clinician, an assigned specialist, a case."""

from dataclasses import dataclass
from typing import Any

from app.auth.models import Role

API = "/api/v1"


@dataclass
class NoteWorld:
    org: Any
    clinician: Any
    specialist: Any
    case: Any


async def note_world(factory: Any, **case_kw: Any) -> NoteWorld:
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case_kw.setdefault("status", "assigned")
    case = await factory.make_case(org.id, assigned_specialist_id=specialist.id,
                                   submitted_by_id=clinician.id, **case_kw)
    return NoteWorld(org, clinician, specialist, case)


async def write_note(client: Any, factory: Any, w: NoteWorld, kind: str = "consult",
                     **fields: Any) -> dict[str, Any]:
    body = {"kind": kind, "assessment": "Likely contact dermatitis.",
            "recommendations": "Stop the new soap; hydrocortisone 1% twice daily.", **fields}
    r = await client.post(f"{API}/cases/{w.case.id}/notes", json=body,
                          headers=factory.headers(w.specialist))
    assert r.status_code == 201, r.text
    return r.json()


async def rows(stmt: Any) -> list[Any]:
    """Read in a short transaction of its own: on SQLite the app has one connection, and a
    test holding it open would stall every request after it."""
    from app.core.db import sessionmaker

    async with sessionmaker()() as s:
        return list((await s.scalars(stmt)).all())


async def get(model: Any, id: str) -> Any:
    from app.core.db import sessionmaker

    async with sessionmaker()() as s:
        return await s.get(model, id)
