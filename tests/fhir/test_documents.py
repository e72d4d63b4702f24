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
from tests.notes.helpers import API, note_world, write_note


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
