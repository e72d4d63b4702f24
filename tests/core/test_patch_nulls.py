"""A null in a PATCH body: before, most were read as "no change" and answered 200, so a
partner who meant to clear a field (or sent null by mistake) was never told. Now a null is
refused beside its field, and nothing changes, unless null empties that field (a round's
join link, a user's facility)."""

import pytest

from app.core.principal import Role
from app.main import create_app
from tests.core.helpers import assert_problem
from tests.followups.test_planned_again import _planned
from tests.notes.helpers import API, note_world, write_note
from tests.rounds.support import make_round


def _refused(r, field: str) -> None:
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"] == [
        {
            "pointer": f"/{field}",
            "detail": "may not be null: leave it out to keep what it holds",
            "code": "null_not_allowed",
        }
    ], body


@pytest.mark.parametrize("field", ["due_at", "assignee_id", "status", "outcome"])
async def test_a_follow_up_is_not_changed_by_a_null(client, factory, field):
    w = await note_world(factory)
    fu = await _planned(client, factory, w)
    url = f"{API}/follow-ups/{fu['id']}"
    h = {**factory.headers(w.specialist), "If-Match": '"1"'}
    _refused(await client.patch(url, json={field: None}, headers=h), field)
    # Sent beside a real change, the null still refuses the whole body: nothing is half-done.
    beside = {"status": "done"} if field == "outcome" else {"outcome": "Seen"}
    r = await client.patch(url, json={field: None, **beside}, headers=h)
    assert r.status_code == 422
    after = (await client.get(url, headers=h)).json()
    assert after["version"] == 1 and after["due_at"] == fu["due_at"]
    assert after["status"] == "open" and after["outcome"] is None


async def test_a_note_user_facility_and_agenda_refuse_a_null(client, factory):
    w = await note_world(factory)
    admin = await factory.make_user(Role.admin)
    note = await write_note(client, factory, w)
    r = await client.patch(
        f"{API}/notes/{note['id']}",
        json={"recommendations": None},
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    _refused(r, "recommendations")
    read = await client.get(f"{API}/notes/{note['id']}", headers=factory.headers(w.specialist))
    # No new version of the note for a change that changed nothing.
    assert read.json()["version"] == 1
    assert read.json()["recommendations"] == note["recommendations"]

    for field in ("name", "role", "active", "languages"):
        r = await client.patch(
            f"{API}/users/{w.clinician.id}", json={field: None}, headers=factory.headers(admin)
        )
        _refused(r, field)
    me = (await client.get(f"{API}/users/{w.clinician.id}", headers=factory.headers(admin))).json()
    assert me["active"] is True and me["role"] == "clinician"
    # A user's facility is emptied by null, where she may have none: not a clinician.
    r = await client.patch(
        f"{API}/users/{w.clinician.id}",
        json={"organization_id": None},
        headers=factory.headers(admin),
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["pointer"] == "/organization_id"
    assert body["errors"][0]["detail"] == "required for clinicians"
    coordinator = await factory.make_user(Role.coordinator, organization_id=w.org.id)
    r = await client.patch(
        f"{API}/users/{coordinator.id}",
        json={"organization_id": None},
        headers=factory.headers(admin),
    )
    assert r.status_code == 200 and r.json()["organization_id"] is None

    r = await client.patch(
        f"{API}/organizations/{w.org.id}", json={"name": None}, headers=factory.headers(admin)
    )
    _refused(r, "name")


async def test_a_round_takes_null_only_where_it_empties(client, factory):
    org = await factory.make_org()
    host = await factory.make_user(Role.clinician, organization_id=org.id)
    rnd = await make_round(org.id, join_url="https://meet.example.org/r1", teaching_topic="Rashes")
    url, h = f"{API}/rounds/{rnd.id}", factory.headers(host)
    _refused(await client.patch(url, json={"teaching_topic": None}, headers=h), "teaching_topic")
    _refused(await client.patch(url, json={"title": None}, headers=h), "title")
    r = await client.get(url, headers=h)
    assert r.json()["teaching_topic"] == "Rashes" and r.json()["version"] == rnd.version
    # Emptied by "" as a text is.
    r = await client.patch(url, json={"teaching_topic": ""}, headers=h)
    assert r.status_code == 200 and r.json()["teaching_topic"] == ""
    r = await client.patch(url, json={"join_url": None}, headers=h)
    assert r.status_code == 200 and r.json()["join_url"] is None


def test_the_published_schema_offers_null_only_where_it_empties():
    schemas = create_app().openapi()["components"]["schemas"]

    def takes_null(model: str, field: str) -> bool:
        prop = schemas[model]["properties"][field]
        return prop.get("type") == "null" or any(
            a.get("type") == "null" for a in prop.get("anyOf", [])
        )

    for model in (
        "FollowUpUpdate",
        "NoteUpdate",
        "UserUpdate",
        "OrganizationUpdate",
        "AgendaUpdate",
        "RoundUpdate",
    ):
        nullable = {
            "RoundUpdate": {"join_url", "effective_from"},
            "UserUpdate": {"organization_id"},
        }.get(model, set())
        for field in schemas[model]["properties"]:
            assert takes_null(model, field) == (field in nullable), (model, field)
