import asyncio

from sqlalchemy import select

from app.cases.models import Case
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.notes.helpers import API, get, note_world, rows, write_note


async def test_a_note_starts_as_a_draft_with_an_etag_and_a_first_version(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w, red_flags="Fever, spreading redness")
    assert note["status"] == "draft" and note["version"] == 1 and note["kind"] == "consult"
    r = await client.get(f"{API}/notes/{note['id']}", headers=factory.headers(w.clinician))
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert r.json()["red_flags"] == "Fever, spreading redness"


async def test_only_the_cases_specialists_write_notes(client, factory):
    w = await note_world(factory)
    other = await factory.make_user(Role.specialist)
    body = {"kind": "consult", "assessment": "x"}
    url = f"{API}/cases/{w.case.id}/notes"
    assert (await client.post(url, json=body, headers=factory.headers(other))).status_code == 404
    assert (
        await client.post(url, json=body, headers=factory.headers(w.clinician))
    ).status_code == 403
    await factory.add_participant(w.case.id, other.id, role="specialist")
    r = await client.post(url, json=body, headers=factory.headers(other))
    assert r.status_code == 201 and r.json()["author_id"] == other.id


async def test_kind_is_checked_and_unknown_fields_refused(client, factory):
    w = await note_world(factory)
    url = f"{API}/cases/{w.case.id}/notes"
    h = factory.headers(w.specialist)
    assert (await client.post(url, json={"kind": "letter"}, headers=h)).status_code == 422
    r = await client.post(url, json={"kind": "consult", "asessment": "typo"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/asessment"


async def test_no_notes_on_a_case_not_yet_assigned(client, factory):
    w = await note_world(factory, status="closed")
    r = await client.post(
        f"{API}/cases/{w.case.id}/notes",
        json={"kind": "consult"},
        headers=factory.headers(w.specialist),
    )
    assert r.status_code == 409


async def test_patch_needs_if_match_and_refuses_a_stale_one(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", factory.headers(w.specialist)
    r = await client.patch(url, json={"assessment": "v2"}, headers=h)
    assert r.status_code == 428 and r.headers["content-type"].startswith("application/problem")
    r = await client.patch(url, json={"assessment": "v2"}, headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert r.json()["assessment"] == "v2" and r.json()["version"] == 2
    r = await client.patch(url, json={"assessment": "v3"}, headers={**h, "If-Match": '"1"'})
    assert r.status_code == 412
    r = await client.patch(url, json={"assessment": "v3"}, headers={**h, "If-Match": "garbage"})
    assert r.status_code == 412
    # Others who see the case may read it, but not change it.
    r = await client.patch(
        url, json={"assessment": "x"}, headers={**factory.headers(w.clinician), "If-Match": '"2"'}
    )
    assert r.status_code == 403


async def test_every_change_is_a_version_with_author_and_time(client, factory):
    w = await note_world(factory)
    second = await factory.make_user(Role.specialist)
    await factory.add_participant(w.case.id, second.id, role="specialist")
    note = await write_note(client, factory, w)
    url = f"{API}/notes/{note['id']}"
    r = await client.patch(
        url,
        json={"assessment": "by second"},
        headers={**factory.headers(second), "If-Match": '"1"'},
    )
    assert r.status_code == 200
    r = await client.patch(
        url,
        json={"red_flags": "chest pain"},
        headers={**factory.headers(w.specialist), "If-Match": '"2"'},
    )
    assert r.status_code == 200
    r = await client.get(f"{url}/versions", headers=factory.headers(w.clinician))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [v["version"] for v in items] == [1, 2, 3]
    assert [v["author_id"] for v in items] == [w.specialist.id, second.id, w.specialist.id]
    assert items[0]["assessment"] == "Likely contact dermatitis."
    assert items[1]["assessment"] == "by second" and items[1]["red_flags"] == ""
    assert items[2]["assessment"] == "by second" and items[2]["red_flags"] == "chest pain"
    assert all(v["created_at"] for v in items)
    assert items[0]["created_at"] <= items[1]["created_at"] <= items[2]["created_at"]


async def test_two_concurrent_changes_from_one_etag_one_wins(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", {**factory.headers(w.specialist), "If-Match": '"1"'}
    a, b = await asyncio.gather(
        client.patch(url, json={"assessment": "from tab A"}, headers=h),
        client.patch(url, json={"assessment": "from tab B"}, headers=h),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    r = await client.get(url, headers=factory.headers(w.specialist))
    assert r.json()["version"] == 2 and r.json()["assessment"] == winner.json()["assessment"]
    versions = (await client.get(f"{url}/versions", headers=factory.headers(w.specialist))).json()[
        "items"
    ]
    assert [v["version"] for v in versions] == [1, 2]


async def test_two_concurrent_signatures_one_wins(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", {**factory.headers(w.specialist), "If-Match": '"1"'}
    a, b = await asyncio.gather(
        client.post(f"{url}/sign", headers=h), client.post(f"{url}/sign", headers=h)
    )
    assert sorted([a.status_code, b.status_code]) in ([200, 409], [200, 412]), (a.text, b.text)


async def test_signing_a_consult_note_answers_the_case_and_tells_the_clinician(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", factory.headers(w.specialist)
    assert (await client.post(f"{url}/sign", headers=h)).status_code == 428
    r = await client.post(f"{url}/sign", headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["status"] == "signed" and signed["signed_by_id"] == w.specialist.id
    assert signed["version"] == 2 and r.headers["ETag"] == '"2"'
    case = await get(Case, w.case.id)
    assert case.status == "answered" and case.answered_at is not None
    events = await rows(
        select(OutboxEvent).where(OutboxEvent.resource_id.in_([note["id"], w.case.id]))
    )
    by_type = {e.type: e for e in events}
    assert by_type["note.signed"].audience == [w.clinician.id]
    assert by_type["note.signed"].organization_id == w.org.id
    assert by_type["case.answered"].payload["note_id"] == note["id"]


async def test_a_signed_note_is_final_and_corrections_are_addenda(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", factory.headers(w.specialist)
    await client.post(f"{url}/sign", headers={**h, "If-Match": '"1"'})
    r = await client.patch(url, json={"assessment": "oops"}, headers={**h, "If-Match": '"2"'})
    assert r.status_code == 409
    assert (await client.post(f"{url}/sign", headers={**h, "If-Match": '"2"'})).status_code == 409
    add = await write_note(
        client,
        factory,
        w,
        kind="addendum",
        amends_id=note["id"],
        assessment="Correction: 0.5% hydrocortisone for the face.",
    )
    assert add["amends_id"] == note["id"]
    r = await client.post(f"{API}/notes/{add['id']}/sign", headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200
    # The case stays answered: only the first consult note answers it.
    assert (await get(Case, w.case.id)).status == "answered"
    # An amends_id on a consult note, or pointing elsewhere, is refused.
    r = await client.post(
        f"{API}/cases/{w.case.id}/notes",
        headers=h,
        json={"kind": "consult", "amends_id": note["id"]},
    )
    assert r.status_code == 422


async def test_progress_note_signing_does_not_answer_the_case(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w, kind="progress")
    r = await client.post(
        f"{API}/notes/{note['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200
    assert (await get(Case, w.case.id)).status == "assigned"


async def test_the_referring_facility_acknowledges_a_signed_note(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url = f"{API}/notes/{note['id']}"
    ack_h = factory.headers(w.clinician)
    assert (await client.post(f"{url}/acknowledge", headers=ack_h)).status_code == 409
    await client.post(f"{url}/sign", headers={**factory.headers(w.specialist), "If-Match": '"1"'})
    r = await client.post(f"{url}/acknowledge", headers=factory.headers(w.specialist))
    assert r.status_code == 403
    r = await client.post(f"{url}/acknowledge", headers=ack_h)
    assert r.status_code == 200 and r.json()["acknowledged_by_id"] == w.clinician.id
    first_at = r.json()["acknowledged_at"]
    colleague = await factory.make_user(Role.clinician, organization_id=w.org.id)
    r = await client.post(f"{url}/acknowledge", headers=factory.headers(colleague))
    assert r.status_code == 200 and r.json()["acknowledged_at"] == first_at
    ev = await rows(select(OutboxEvent).where(OutboxEvent.type == "note.acknowledged"))
    assert len(ev) == 1 and ev[0].audience == [w.specialist.id]


async def test_an_acknowledgement_changes_the_notes_etag_not_its_version(client, factory):
    """A copy read before the note was acknowledged is not current after: If-None-Match
    with its tag gets the note again (with `acknowledged_at`), not a 304. The version (and
    a write's If-Match with it) stays: the content did not change."""
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url = f"{API}/notes/{note['id']}"
    signed = await client.post(
        f"{url}/sign", headers={**factory.headers(w.specialist), "If-Match": '"1"'}
    )
    before = signed.headers["ETag"]
    h = factory.headers(w.clinician)
    assert (await client.get(url, headers={**h, "If-None-Match": before})).status_code == 304
    r = await client.post(f"{url}/acknowledge", headers={**h, "If-Match": before})
    assert r.status_code == 200, r.text
    after = r.headers["ETag"]
    assert after != before and r.json()["version"] == signed.json()["version"]
    r = await client.get(url, headers={**h, "If-None-Match": before})
    assert r.status_code == 200 and r.json()["acknowledged_at"] is not None, r.text
    assert r.headers["ETag"] == after
    assert (await client.get(url, headers={**h, "If-None-Match": after})).status_code == 304
    # The tag read before names the same version: acknowledging again with it is no 412.
    r = await client.post(f"{url}/acknowledge", headers={**h, "If-Match": before})
    assert r.status_code == 200, r.text
    # A stale one is, and names the tag a read gives now.
    r = await client.post(f"{url}/acknowledge", headers={**h, "If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["current_etag"] == after, r.text


async def test_notes_follow_the_cases_visibility(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    other_org = await factory.make_org()
    stranger = await factory.make_user(Role.clinician, organization_id=other_org.id)
    interpreter = await factory.make_user(Role.interpreter)
    url = f"{API}/notes/{note['id']}"
    assert (await client.get(url, headers=factory.headers(stranger))).status_code == 404
    assert (await client.get(url, headers=factory.headers(interpreter))).status_code == 404
    await factory.add_participant(w.case.id, interpreter.id)
    assert (await client.get(url, headers=factory.headers(interpreter))).status_code == 200
    assert (
        await client.get(f"{API}/notes/note_nope", headers=factory.headers(w.clinician))
    ).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_reads_and_changes_are_audited(client, factory):
    from app.audit.models import AuditEntry

    w = await note_world(factory)
    note = await write_note(client, factory, w)
    await client.get(f"{API}/notes/{note['id']}", headers=factory.headers(w.clinician))
    await client.patch(
        f"{API}/notes/{note['id']}",
        json={"assessment": "b"},
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    entries = await rows(
        select(AuditEntry).where(AuditEntry.resource_id == note["id"]).order_by(AuditEntry.id)
    )
    assert [(r.action, r.actor_id) for r in entries] == [
        ("note.create", w.specialist.id),
        ("note.read", w.clinician.id),
        ("note.update", w.specialist.id),
    ]


async def test_a_read_with_the_current_etag_is_304_and_a_stale_one_is_read_again(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", factory.headers(w.specialist)
    r = await client.get(url, headers={**h, "If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["ETag"] == '"1"' and r.content == b""
    r = await client.patch(url, json={"assessment": "v2"}, headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = await client.get(url, headers={**h, "If-None-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert r.json()["assessment"] == "v2"


async def test_a_change_without_if_match_is_428_and_changes_nothing(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url, h = f"{API}/notes/{note['id']}", factory.headers(w.specialist)
    r = await client.patch(url, json={"assessment": "blind"}, headers=h)
    assert r.status_code == 428 and r.json()["type"].endswith("/precondition-required")
    assert (await client.post(f"{url}/sign", headers=h)).status_code == 428
    r = await client.get(url, headers=h)
    assert r.json()["version"] == 1 and r.json()["status"] == "draft"


async def test_a_cases_notes_are_listed_drafts_too_so_a_draft_is_found_from_any_device(
    client, factory
):
    from app.audit.models import AuditEntry

    w = await note_world(factory)
    signed = await write_note(client, factory, w)
    h = factory.headers(w.specialist)
    r = await client.post(f"{API}/notes/{signed['id']}/sign", headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    draft = await write_note(client, factory, w, kind="progress", assessment="Half written")
    url = f"{API}/cases/{w.case.id}/notes"

    r = await client.get(url, headers=h)
    assert r.status_code == 200, r.text
    assert [(n["id"], n["status"]) for n in r.json()["items"]] == [
        (signed["id"], "signed"),
        (draft["id"], "draft"),
    ]
    r = await client.get(url, params={"status": "draft"}, headers=h)
    assert [n["id"] for n in r.json()["items"]] == [draft["id"]]
    assert r.json()["items"][0]["assessment"] == "Half written"
    # The facility's clinician sees them as she sees each note; one page at a time.
    r = await client.get(url, params={"limit": 1}, headers=factory.headers(w.clinician))
    first = r.json()
    assert [n["id"] for n in first["items"]] == [signed["id"]]
    r = await client.get(
        url,
        params={"limit": 1, "cursor": first["next_cursor"]},
        headers=factory.headers(w.clinician),
    )
    assert [n["id"] for n in r.json()["items"]] == [draft["id"]]
    assert r.json()["next_cursor"] is None

    r = await client.get(url, params={"status": "final"}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    assert (await client.get(url, headers=factory.headers(other))).status_code == 404
    listed = await rows(
        select(AuditEntry)
        .where(AuditEntry.action == "note.list", AuditEntry.resource_id == w.case.id)
        .order_by(AuditEntry.id)  # the order they were written (PostgreSQL promises none)
    )
    assert [e.actor_id for e in listed] == [w.specialist.id] * 2 + [w.clinician.id] * 2
