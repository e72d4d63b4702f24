"""A small world for note tests: a facility, its clinician, an assigned specialist, a case."""

from dataclasses import dataclass
from typing import Any

from app.core.clock import utcnow
from app.core.principal import Role

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
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id, **case_kw
    )
    return NoteWorld(org, clinician, specialist, case)


async def write_note(
    client: Any, factory: Any, w: NoteWorld, kind: str = "consult", **fields: Any
) -> dict[str, Any]:
    body = {
        "kind": kind,
        "assessment": "Likely contact dermatitis.",
        "recommendations": "Stop the new soap; hydrocortisone 1% twice daily.",
        **fields,
    }
    r = await client.post(
        f"{API}/cases/{w.case.id}/notes", json=body, headers=factory.headers(w.specialist)
    )
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


async def make_note(
    case_id: str, author_id: str, *, kind: str = "consult", signed: bool = False
) -> Any:
    """A note as the API would leave it (with its first version row), without the API."""

    from app.core.db import sessionmaker
    from app.notes.models import Note, NoteVersion

    now = utcnow()
    async with sessionmaker()() as s:
        note = Note(
            case_id=case_id,
            author_id=author_id,
            kind=kind,
            assessment="Assessment",
            recommendations="Recommendations",
            status="signed" if signed else "draft",
            signed_at=now if signed else None,
            signed_by_id=author_id if signed else None,
        )
        s.add(note)
        await s.flush()
        s.add(
            NoteVersion(
                note_id=note.id,
                version=1,
                status=note.status,
                author_id=author_id,
                assessment=note.assessment,
                recommendations=note.recommendations,
            )
        )
        await s.commit()
        return note
