"""A signed consult note as a FHIR R4 DocumentReference: a facility's record (its EMR)
files the specialist's advice beside the patient's chart, so care goes on after the call.
Before, the FHIR surface served the case and its messages but no note. Only signed notes
are served (a draft is not yet advice); the note's own access rule decides who reads it."""

import base64
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference

from app.core.clock import utcnow
from app.core.principal import Role
from app.fhir.resources import fhir_id
from tests.fhir.test_reads import FHIR, fhir_json, outcome
from tests.notes.helpers import API, NoteWorld, note_world, write_note


def NoteWorldFor(w: NoteWorld, case) -> NoteWorld:  # noqa: N802 - a NoteWorld, for a case
    return NoteWorld(w.org, w.clinician, w.specialist, case)


async def _signed(client, factory, w, **fields) -> dict:
    note = await write_note(client, factory, w, **fields)
    r = await client.post(
        f"{API}/notes/{note['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_signed_note_and_its_addendum_are_documents_of_the_case(client, factory, clock):
    w = await note_world(factory)
    consult = await _signed(
        client,
        factory,
        w,
        follow_up_plan="Review in two weeks at the clinic.",
        red_flags="Fever or spreading redness: refer the same day.",
    )
    clock.advance(timedelta(days=1))
    addendum = await _signed(
        client,
        factory,
        w,
        kind="addendum",
        amends_id=consult["id"],
        assessment="Correction: 0.5% hydrocortisone for the face.",
    )
    draft = await write_note(client, factory, w, kind="progress")
    h = factory.headers(w.clinician)

    url = f"{FHIR}/DocumentReference?related=ServiceRequest/{fhir_id(w.case.id)}"
    body = fhir_json(await client.get(url, headers=h))
    b = Bundle.model_validate(body)
    assert b.total == 2 and [e.resource.id for e in b.entry] == [
        fhir_id(consult["id"]),
        fhir_id(addendum["id"]),
    ]
    doc = b.entry[0].resource
    assert isinstance(doc, DocumentReference)
    assert doc.status == "current" and doc.docStatus == "final"
    assert doc.type.coding[0].code == "11488-4"  # LOINC: consult note
    assert doc.subject.identifier.value == w.case.patient_reference
    assert doc.author[0].reference == f"Practitioner/{fhir_id(w.specialist.id)}"
    assert doc.authenticator.reference == f"Practitioner/{fhir_id(w.specialist.id)}"
    assert doc.context.related[0].reference == f"ServiceRequest/{fhir_id(w.case.id)}"
    text = base64.b64decode(body["entry"][0]["resource"]["content"][0]["attachment"]["data"])
    assert text.decode() == (
        "Assessment\nLikely contact dermatitis.\n\n"
        "Recommendations\nStop the new soap; hydrocortisone 1% twice daily.\n\n"
        "Follow-up plan\nReview in two weeks at the clinic.\n\n"
        "Red flags\nFever or spreading redness: refer the same day."
    )
    assert doc.content[0].attachment.contentType == "text/plain; charset=utf-8"
    later = b.entry[1].resource
    assert later.relatesTo[0].code == "appends"
    assert later.relatesTo[0].target.reference == f"DocumentReference/{fhir_id(consult['id'])}"

    # Read by its id (either spelling), with its version as a weak ETag and 304 when current.
    one = await client.get(f"{FHIR}/DocumentReference/{consult['id']}", headers=h)
    assert DocumentReference.model_validate(fhir_json(one)).id == fhir_id(consult["id"])
    assert one.headers["ETag"] == f'W/"{consult["version"]}"'
    again = await client.get(
        f"{FHIR}/DocumentReference/{fhir_id(consult['id'])}",
        headers={**h, "If-None-Match": one.headers["ETag"]},
    )
    assert again.status_code == 304

    # A draft is not a document: not listed, and 404 by its id.
    outcome(await client.get(f"{FHIR}/DocumentReference/{draft['id']}", headers=h), 404)

    # By when it was signed: the day after the consult note, only the addendum.
    day = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b = Bundle.model_validate(fhir_json(await client.get(f"{url}&date=ge{day}", headers=h)))
    assert [e.resource.id for e in b.entry] == [fhir_id(addendum["id"])]

    # Another facility's clinician sees none of it.
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    none = Bundle.model_validate(fhir_json(await client.get(url, headers=factory.headers(other))))
    assert none.total == 0
    outcome(
        await client.get(
            f"{FHIR}/DocumentReference/{consult['id']}", headers=factory.headers(other)
        ),
        404,
    )
    bad = await client.get(f"{FHIR}/DocumentReference?related=Patient/1", headers=h)
    assert outcome(bad, 400).issue[0].expression == ["related"]


async def test_one_patients_documents_and_a_patient_filter_never_ignored(client, factory, clock):
    """An EMR files documents by patient: `subject:identifier` (or `patient:identifier`)
    gives one patient's signed notes, in the order they were signed. A patient filter this
    server cannot apply (`patient=Patient/...`: it serves no Patient) is refused, never
    ignored: ignored, it would answer every patient's notes."""
    w = await note_world(factory, patient_reference="MRN-0042")
    other_case = await factory.make_case(
        w.org.id,
        status="assigned",
        assigned_specialist_id=w.specialist.id,
        submitted_by_id=w.clinician.id,
        patient_reference="MRN-0777",
    )
    # Written first, signed last: listed by when it was signed.
    early = await write_note(client, factory, w, kind="progress", assessment="Day 1.")
    clock.advance(timedelta(hours=1))
    later = await _signed(client, factory, w)
    clock.advance(timedelta(hours=1))
    r = await client.post(
        f"{API}/notes/{early['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    other = await write_note(client, factory, NoteWorldFor(w, other_case))
    r = await client.post(
        f"{API}/notes/{other['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    h = factory.headers(w.clinician)

    system = f"https://consult.example.org/fhir/organization/{w.org.id}/patient"
    for query in (
        "subject:identifier=MRN-0042",
        f"subject:identifier={system}|MRN-0042",
        "patient:identifier=MRN-0042",
    ):
        body = fhir_json(await client.get(f"{FHIR}/DocumentReference?{query}", headers=h))
        ids = [e["resource"]["id"] for e in body["entry"]]
        assert ids == [fhir_id(later["id"]), fhir_id(early["id"])], query
        assert body["entry"][0]["resource"]["subject"]["type"] == "Patient"
    # Another facility's system names another facility's patients: none here.
    elsewhere = "https://consult.example.org/fhir/organization/org_other/patient|MRN-0042"
    none = fhir_json(
        await client.get(f"{FHIR}/DocumentReference?subject:identifier={elsewhere}", headers=h)
    )
    assert none["total"] == 0
    # Paged one at a time, in the same order.
    first = fhir_json(
        await client.get(
            f"{FHIR}/DocumentReference?subject:identifier=MRN-0042&_count=1", headers=h
        )
    )
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = fhir_json(await client.get(API + nxt.split("/api/v1", 1)[1], headers=h))
    assert [e["resource"]["id"] for e in first["entry"] + second["entry"]] == [
        fhir_id(later["id"]),
        fhir_id(early["id"]),
    ]

    for query in ("patient=Patient/123", "subject=Patient/123", "patient.identifier=MRN-0042"):
        for resource in ("DocumentReference", "Communication", "ServiceRequest"):
            r = await client.get(f"{FHIR}/{resource}?{query}", headers=h)
            assert outcome(r, 400).issue[0].expression == [query.split("=")[0]], (resource, r.text)


async def test_an_addendum_corrects_a_signed_note_not_a_draft(client, factory):
    """A draft is changed itself; an addendum to one would point a partner's record at a
    note it cannot read."""
    w = await note_world(factory)
    draft = await write_note(client, factory, w)
    r = await client.post(
        f"{API}/cases/{w.case.id}/notes",
        json={"kind": "addendum", "amends_id": draft["id"], "assessment": "More."},
        headers=factory.headers(w.specialist),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"pointer": "/amends_id", "detail": "not signed", "code": "not_signed"}
    ]


async def test_identifier_tokens_as_fhir_writes_them(client, factory):
    """`|value` asks for an identifier with no system (none here); an escaped bar is part of
    the value; subject:identifier and patient:identifier together must both hold; a cursor
    of another shape is refused as a bad cursor, not a server error."""
    w = await note_world(factory, patient_reference="HC|2024|17")
    note = await _signed(client, factory, w)
    h = factory.headers(w.clinician)
    system = f"https://consult.example.org/fhir/organization/{w.org.id}/patient"

    async def found(query: str) -> list[str]:
        body = fhir_json(await client.get(f"{FHIR}/DocumentReference?{query}", headers=h))
        return [e["resource"]["id"] for e in body.get("entry", [])]

    escaped = "HC%5C%7C2024%5C%7C17"  # HC\|2024\|17, URL-encoded
    assert await found(f"subject:identifier={escaped}") == [fhir_id(note["id"])]
    assert await found(f"subject:identifier={system}|{escaped}") == [fhir_id(note["id"])]
    assert await found(f"subject:identifier=|{escaped}") == []  # no system: nobody here
    both = f"subject:identifier={escaped}&patient:identifier=OTHER"
    assert await found(both) == []
    r = await client.get(f"{FHIR}/DocumentReference?subject:identifier=a|b|c", headers=h)
    assert outcome(r, 400).issue[0].expression == ["subject:identifier"]

    from app.core.pagination import encode_cursor

    old = encode_cursor(note["id"], "fhir.DocumentReference")  # a bare id, not [signed, id]
    r = await client.get(f"{FHIR}/DocumentReference?_cursor={old}", headers=h)
    assert r.status_code == 400, r.text
