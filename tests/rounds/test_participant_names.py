"""Who takes part in a round, by name: everyone who may read a series' participants sees
their names (people in a round meet each other by name, and GET /users/{id} hides other
people from specialists and interpreters); nobody else gains the list."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from app.core.clock import utcnow
from app.core.db import get_engine
from app.core.principal import Role
from app.rounds import service
from tests.rounds.support import API, make_round


@pytest.fixture
async def room(factory):
    org = await factory.make_org(name="Lake Mission Hospital", timezone="Africa/Nairobi")
    clin = await factory.make_user(Role.clinician, organization_id=org.id, name="Dr Achieng Otieno")
    spec = await factory.make_user(Role.specialist, name="Dr Ana Ruiz")
    interp = await factory.make_user(Role.interpreter, name="Rosa Quispe")
    first = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    rnd = await make_round(
        org.id,
        starts_at_local=first,
        participants=[
            (clin.id, "local_team"),
            (spec.id, "specialist"),
            (interp.id, "interpreter"),
        ],
    )
    return org, rnd, clin, spec, interp


async def test_a_specialist_and_an_interpreter_see_the_others_by_name(client, factory, room):
    _org, rnd, clin, spec, interp = room
    expected = {
        clin.id: ("Dr Achieng Otieno", "local_team"),
        spec.id: ("Dr Ana Ruiz", "specialist"),
        interp.id: ("Rosa Quispe", "interpreter"),
    }
    for viewer in (spec, interp):
        r = await client.get(f"{API}/rounds/{rnd.id}/participants", headers=factory.headers(viewer))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert {i["user_id"]: (i["name"], i["role"]) for i in items} == expected
        # Additive: the fields partners already read are all still there.
        for i in items:
            assert {
                "id",
                "series_id",
                "user_id",
                "role",
                "allow_conflict",
                "added_by_id",
                "created_at",
            } <= set(i)
            assert i["series_id"] == rnd.id
        # Still hidden from them on GET /users/{id}: the name comes only with the round.
        other = clin.id
        r = await client.get(f"{API}/users/{other}", headers=factory.headers(viewer))
        assert r.status_code in (403, 404), r.text


async def test_someone_outside_the_round_still_cannot_read_the_list(client, factory, room):
    org, rnd, *_ = room
    outsider_spec = await factory.make_user(Role.specialist, name="Dr Not Invited")
    outsider_interp = await factory.make_user(Role.interpreter, name="Not Invited")
    other_org = await factory.make_org(name="Elsewhere Clinic")
    other_clin = await factory.make_user(Role.clinician, organization_id=other_org.id)
    for who in (outsider_spec, outsider_interp, other_clin):
        r = await client.get(f"{API}/rounds/{rnd.id}/participants", headers=factory.headers(who))
        assert r.status_code == 404, r.text
        assert "Dr Ana Ruiz" not in r.text


async def test_adding_a_participant_answers_with_the_name(client, factory, room):
    org, rnd, clin, *_ = room
    newcomer = await factory.make_user(Role.specialist, name="Dr Wanjiru Kamau")
    r = await client.post(
        f"{API}/rounds/{rnd.id}/participants",
        headers=factory.headers(clin),
        json={"user_id": newcomer.id, "role": "specialist", "allow_conflict": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Dr Wanjiru Kamau"
    assert r.json()["user_id"] == newcomer.id


async def test_the_names_come_in_one_query_however_many_take_part(db, factory, room):
    _org, rnd, *_ = room
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        people = await service.list_participants(db, rnd)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert sorted(p.name for p in people) == ["Dr Achieng Otieno", "Dr Ana Ruiz", "Rosa Quispe"]
    # Only this session's work names users (a background task's statements would not).
    assert len([s for s in statements if "user" in s.lower()]) == 1, statements
