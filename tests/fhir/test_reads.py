"""FHIR R4 reads, validated with fhir.resources (its R4B models: R4's resources unchanged),
under the same visibility rules as the API; errors are OperationOutcomes."""

from datetime import datetime, timedelta

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from app.core.db import sessionmaker
from app.core.principal import Role
from app.fhir.resources import fhir_id, occurrence_id
from tests.partners.support import API

FHIR = f"{API}/fhir"


def fhir_json(r):
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return r.json()


def outcome(r, status: int) -> OperationOutcome:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return OperationOutcome.model_validate(r.json())


async def test_service_request_is_valid_r4(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, urgency="emergency", assigned_specialist_id=spec.id)
    body = fhir_json(
        await client.get(f"{FHIR}/ServiceRequest/{case.id}", headers=factory.headers(clin))
    )
    sr = ServiceRequest.model_validate(body)
    assert sr.id == fhir_id(case.id) and sr.status == "active" and sr.intent == "order"
    assert sr.priority == "stat"
    assert sr.subject.identifier.value == case.patient_reference
    assert sr.performer[0].reference == f"Practitioner/{fhir_id(spec.id)}"
    assert sr.identifier[0].value == case.id
    # The FHIR spelling of the id works too.
    again = await client.get(
        f"{FHIR}/ServiceRequest/{fhir_id(case.id)}", headers=factory.headers(clin)
    )
    assert again.json() == body


@pytest.mark.parametrize(
    ("status", "task_status"),
    [
        ("submitted", "requested"),
        ("offered", "received"),
        ("assigned", "accepted"),
        ("answered", "in-progress"),
        ("closed", "completed"),
        ("cancelled", "cancelled"),
        ("unmatched", "rejected"),
    ],
)
async def test_task_status_follows_the_case(client, factory, status, task_status):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    extra = (
        {"assigned_specialist_id": spec.id} if status in ("assigned", "answered", "closed") else {}
    )
    case = await factory.make_case(org.id, status=status, outcome="Improved on treatment", **extra)
    t = Task.model_validate(
        fhir_json(await client.get(f"{FHIR}/Task/{case.id}", headers=factory.headers(clin)))
    )
    assert t.status == task_status
    assert t.businessStatus.text == status
    assert t.basedOn[0].reference == f"ServiceRequest/{fhir_id(case.id)}"
    sr = ServiceRequest.model_validate(
        fhir_json(
            await client.get(f"{FHIR}/ServiceRequest/{case.id}", headers=factory.headers(clin))
        )
    )
    assert sr.status == {"closed": "completed", "cancelled": "revoked"}.get(status, "active")


async def test_same_visibility_as_the_api(client, factory):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    case = await factory.make_case(org_a.id)
    offered = await factory.make_user(Role.specialist)
    await factory.make_offer(case.id, offered.id)
    outsiders = [
        await factory.make_user(Role.clinician, organization_id=org_b.id),
        await factory.make_user(Role.specialist),
        await factory.make_user(Role.interpreter),
        await factory.make_client(org_b.id),
    ]
    for who in outsiders:
        for kind in ("ServiceRequest", "Task"):
            r = await client.get(f"{FHIR}/{kind}/{case.id}", headers=factory.headers(who))
            assert outcome(r, 404).issue[0].code == "not-found"
            # A search shows none of what a read refuses.
            found = await client.get(f"{FHIR}/{kind}", headers=factory.headers(who))
            assert Bundle.model_validate(fhir_json(found)).total == 0
    # A specialist weighing an offer sees the request, without the patient reference.
    sr = fhir_json(
        await client.get(f"{FHIR}/ServiceRequest/{case.id}", headers=factory.headers(offered))
    )
    ServiceRequest.model_validate(sr)
    assert case.patient_reference not in str(sr)
    # Its messages need the full view: none are found.
    msgs = await client.get(
        f"{FHIR}/Communication?based-on=ServiceRequest/{case.id}",
        headers=factory.headers(offered),
    )
    assert Bundle.model_validate(fhir_json(msgs)).total == 0
    anonymous = await client.get(f"{FHIR}/Task/{case.id}")
    assert outcome(anonymous, 401).issue[0].code == "login"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    admin = factory.headers(await factory.make_user(Role.admin))
    outcome(await client.get(f"{FHIR}/Task/case_missing", headers=admin), 404)
    # A type this server does not serve, and a malformed id: OperationOutcomes too.
    outcome(await client.get(f"{FHIR}/Patient/1", headers=admin), 404)
    outcome(await client.get(f"{FHIR}/Patient", headers=admin), 404)
    bad = outcome(await client.get(f"{FHIR}/Task/a%20b", headers=admin), 400)
    assert bad.issue[0].expression == ["case_id"]


async def test_communications_are_the_case_messages(client, factory):
    from app.consults.models import Message

    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=spec.id)
    async with sessionmaker()() as s:
        for seq, (who, role, text) in enumerate(
            [
                (clin, "clinician", "Photos attached."),
                (spec, "specialist", "Try X."),
                (clin, "clinician", "Thanks."),
            ],
            start=1,
        ):
            s.add(
                Message(
                    case_id=case.id,
                    seq=seq,
                    sender_id=who.id,
                    sender_role=role,
                    body=text,
                    client_msg_id=f"c{seq}",
                )
            )
        await s.commit()
    url = f"{FHIR}/Communication?based-on=ServiceRequest/{case.id}&_count=2"
    b = Bundle.model_validate(fhir_json(await client.get(url, headers=factory.headers(clin))))
    assert b.type == "searchset" and len(b.entry) == 2 and b.total == 3
    first = b.entry[0].resource
    assert first.__resource_type__ == "Communication"
    assert first.payload[0].contentString == "Photos attached."
    assert first.basedOn[0].reference == f"ServiceRequest/{fhir_id(case.id)}"
    assert b.entry[1].resource.sender.reference == f"Practitioner/{fhir_id(spec.id)}"
    nxt = next(link.url for link in b.link if link.relation == "next")
    rest = Bundle.model_validate(
        fhir_json(await client.get(API + nxt.split("/api/v1", 1)[1], headers=factory.headers(clin)))
    )
    assert [e.resource.payload[0].contentString for e in rest.entry] == ["Thanks."]
    assert rest.total == 3 and not any(link.relation == "next" for link in rest.link)
    # One message read by its id; its sender resolves as a Practitioner.
    one = await client.get(f"{FHIR}/Communication/{first.id}", headers=factory.headers(clin))
    assert Communication.model_validate(fhir_json(one)).id == first.id
    who = await client.get(f"{FHIR}/{first.sender.reference}", headers=factory.headers(clin))
    assert Practitioner.model_validate(fhir_json(who)).name[0].text == clin.name
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    none = await client.get(url, headers=factory.headers(other))
    assert Bundle.model_validate(fhir_json(none)).total == 0
    outcome(
        await client.get(f"{FHIR}/Communication/{first.id}", headers=factory.headers(other)), 404
    )
    bad = await client.get(
        f"{FHIR}/Communication?based-on=Patient/1", headers=factory.headers(clin)
    )
    assert outcome(bad, 400).issue[0].expression == ["based-on"]


async def test_round_occurrence_is_an_appointment(client, factory, clock):
    day = (clock.now() + timedelta(days=8)).date()
    org = await factory.make_org(timezone="America/Argentina/Salta")
    other = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coordinator = await factory.make_user(Role.coordinator)
    r = await client.post(
        f"{API}/rounds",
        headers=factory.headers(coordinator),
        json={
            "title": "Dermatology round",
            "host_organization_id": org.id,
            "timezone": "America/Argentina/Salta",
            "starts_at_local": f"{day}T09:00",
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "specialty": "dermatology",
            "teaching_topic": "Tinea",
            "join_url": "https://meet.example.org/derm",
        },
    )
    assert r.status_code == 201, r.text
    series = r.json()
    occ = await client.get(
        f"{API}/rounds/{series['id']}/occurrences?from={day}T00:00:00Z"
        f"&to={day + timedelta(days=19)}T00:00:00Z",
        headers=factory.headers(clin),
    )
    first = occ.json()["items"][0]
    start = datetime.fromisoformat(first["start"].replace("Z", "+00:00"))
    appt_id = occurrence_id(series["id"], start)
    a = Appointment.model_validate(
        fhir_json(await client.get(f"{FHIR}/Appointment/{appt_id}", headers=factory.headers(clin)))
    )
    assert a.id == appt_id and a.status == "booked" and a.description == "Dermatology round"
    assert a.start == start and a.minutesDuration == 60
    outsider = await factory.make_user(Role.clinician, organization_id=other.id)
    assert (
        await client.get(f"{FHIR}/Appointment/{appt_id}", headers=factory.headers(outsider))
    ).status_code == 404
    not_an_occurrence = occurrence_id(series["id"], start.replace(hour=start.hour - 1))
    assert (
        await client.get(f"{FHIR}/Appointment/{not_an_occurrence}", headers=factory.headers(clin))
    ).status_code == 404
    assert (
        await client.get(f"{FHIR}/Appointment/garbage", headers=factory.headers(clin))
    ).status_code == 404
