"""A note is signed only when it says something a clinician can act on: a consult note
(which answers the case) an assessment and recommendations, a progress note or an addendum
at least one field. Blank means empty or spaces only. A refusal is a 422 naming each field
with a short code the console says in the viewer's language, and it changes nothing."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.models import Case
from app.events.models import OutboxEvent
from tests.notes.helpers import API, get, note_world, rows, write_note

BLANK = {
    "assessment": "",
    "recommendations": "",
    "follow_up_plan": "",
    "red_flags": "",
    "referral_advice": "",
}


async def _sign(client, factory, w, note, version=1):
    return await client.post(
        f"{API}/notes/{note['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": f'"{version}"'},
    )


async def test_a_blank_consult_note_is_not_signed_and_nothing_changes(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w, **BLANK)
    r = await _sign(client, factory, w, note)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/note-incomplete")
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        ("/assessment", "required_to_sign"),
        ("/recommendations", "required_to_sign"),
    ]
    # Nothing changed: the draft as it was, the case still waiting for its answer, nobody told.
    r = await client.get(f"{API}/notes/{note['id']}", headers=factory.headers(w.specialist))
    assert (r.json()["status"], r.json()["version"], r.headers["ETag"]) == ("draft", 1, '"1"')
    assert (await get(Case, w.case.id)).status == "assigned"
    events = await rows(
        select(OutboxEvent).where(OutboxEvent.resource_id.in_([note["id"], w.case.id]))
    )
    assert [e.type for e in events if e.type in ("note.signed", "case.answered")] == []
    signed = await rows(
        select(AuditEntry).where(
            AuditEntry.resource_id == note["id"], AuditEntry.action == "note.sign"
        )
    )
    assert signed == []


async def test_spaces_only_count_as_blank_and_each_missing_field_is_named(client, factory):
    w = await note_world(factory)
    note = await write_note(
        client,
        factory,
        w,
        assessment="Likely contact dermatitis.",
        recommendations=" \n\t ",
        red_flags="Fever",
    )
    r = await _sign(client, factory, w, note)
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/recommendations", "required_to_sign")
    ]
    # Once the recommendations are written, the same note signs and answers the case.
    r = await client.patch(
        f"{API}/notes/{note['id']}",
        json={"recommendations": "Stop the new soap; hydrocortisone 1%."},
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    r = await _sign(client, factory, w, note, version=2)
    assert r.status_code == 200, r.text
    assert (await get(Case, w.case.id)).status == "answered"


async def test_a_progress_note_or_an_addendum_needs_one_field(client, factory):
    w = await note_world(factory)
    progress = await write_note(client, factory, w, kind="progress", **{**BLANK, "red_flags": " "})
    r = await _sign(client, factory, w, progress)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/note-incomplete")
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        (f"/{f}", "one_required_to_sign") for f in BLANK
    ]
    one_line = await write_note(
        client, factory, w, kind="progress", **{**BLANK, "follow_up_plan": "Review in 2 weeks."}
    )
    assert (await _sign(client, factory, w, one_line)).status_code == 200
    assert (await get(Case, w.case.id)).status == "assigned"  # a progress note answers nothing

    consult = await write_note(client, factory, w)
    assert (await _sign(client, factory, w, consult)).status_code == 200
    addendum = await write_note(
        client, factory, w, kind="addendum", amends_id=consult["id"], **BLANK
    )
    r = await _sign(client, factory, w, addendum)
    assert r.status_code == 422 and r.json()["type"].endswith("/note-incomplete"), r.text
    r = await client.get(f"{API}/notes/{addendum['id']}", headers=factory.headers(w.specialist))
    assert r.json()["status"] == "draft"
    addendum = await write_note(
        client,
        factory,
        w,
        kind="addendum",
        amends_id=consult["id"],
        **{**BLANK, "assessment": "Use 0.5% on the face."},
    )
    assert (await _sign(client, factory, w, addendum)).status_code == 200


async def test_the_refusal_is_in_the_published_contract(client):
    """Partner apps learn the rule from the schema, not from a refusal in production."""
    schema = (await client.get("/openapi.json")).json()
    sign = schema["paths"]["/api/v1/notes/{note_id}/sign"]["post"]
    assert "422" in sign["responses"]
    assert "note-incomplete" in sign["description"]
    assert "assessment" in sign["description"] and "recommendations" in sign["description"]
