"""The FHIR reads follow the rules of the domains that own the records (404 as an
OperationOutcome to anyone else)."""

from datetime import timedelta

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.fhir.resources import occurrence_id
from tests.matrix_support import Row, World

API = "/api/v1"
FHIR = f"{API}/fhir"


async def _case_a(w: World) -> str:
    return (await w.f.make_case(w.org_a.id)).id


async def _service_request(w: World):
    return f"{FHIR}/ServiceRequest/{await _case_a(w)}", None


async def _task(w: World):
    return f"{FHIR}/Task/{await _case_a(w)}", None


async def _communication(w: World):
    from app.consults.models import Message

    case_id = await _case_a(w)
    async with sessionmaker()() as s:
        m = Message(
            case_id=case_id,
            seq=1,
            sender_id=w.users["clinician_a"].id,
            sender_role="clinician",
            body="Photos attached.",
            client_msg_id="c1",
        )
        s.add(m)
        await s.commit()
    return f"{FHIR}/Communication/{m.id}", None


async def _document_reference(w: World):
    from app.notes.models import Note

    case_id = await _case_a(w)
    signer = w.users["specialist"].id
    async with sessionmaker()() as s:
        n = Note(
            case_id=case_id,
            kind="consult",
            status="signed",
            author_id=signer,
            assessment="Contact dermatitis.",
            recommendations="Stop the new soap.",
            signed_at=utcnow(),
            signed_by_id=signer,
        )
        s.add(n)
        await s.commit()
    return f"{FHIR}/DocumentReference/{n.id}", None


async def _practitioner(w: World):
    u = await w.f.make_user(Role.clinician, organization_id=w.org_a.id)
    return f"{FHIR}/Practitioner/{u.id}", None


async def _interpreter(w: World):
    u = await w.f.make_user(Role.interpreter)
    return f"{FHIR}/Practitioner/{u.id}", None


async def _organization(w: World):
    return f"{FHIR}/Organization/{w.org_a.id}", None


async def _appointment(w: World):
    from app.rounds.models import RoundSeries

    # A week from the tests' clock, at 09:00 UTC, weekly on that weekday.
    start = (utcnow() + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]
    async with sessionmaker()() as s:
        series = RoundSeries(
            title="Round",
            host_organization_id=w.org_a.id,
            timezone="UTC",
            starts_at_local=start.strftime("%Y-%m-%dT%H:%M"),
            starts_at=start,
            duration_minutes=60,
            rrule=f"FREQ=WEEKLY;BYDAY={day}",
            specialty="dermatology",
        )
        s.add(series)
        await s.commit()
    return f"{FHIR}/Appointment/{occurrence_id(series.id, series.starts_at)}", None


# Cases: staff and the facility (its clinicians and apps) see them; others 404.
CASE = {
    "anonymous": 401,
    "admin": 200,
    "coordinator": 200,
    "clinician_a": 200,
    "clinician_b": 404,
    "specialist": 404,
    "interpreter": 404,
    "client_a": 200,
    "client_b": 404,
}
# A facility's clinician, as GET /users/{id} shows them.
COLLEAGUE = {**CASE}
# An interpreter, as GET /users/{id} shows her: the clinicians and the specialists who may
# add one to a case find her; another interpreter does not, nor does a facility's app.
INTERPRETER = {
    **CASE,
    "clinician_b": 200,
    "specialist": 200,
    "client_a": 404,
}
# A facility, as GET /organizations/{id} shows it.
FACILITY = {**CASE, "specialist": 200, "interpreter": 200}

ROWS = [
    Row("GET", f"{FHIR}/ServiceRequest/{{case_id}}", _service_request, CASE),
    Row("GET", f"{FHIR}/Task/{{case_id}}", _task, CASE),
    Row("GET", f"{FHIR}/Communication/{{message_id}}", _communication, CASE),
    # A signed note, as GET /notes/{id} shows it (its author is not assigned here: 404).
    Row("GET", f"{FHIR}/DocumentReference/{{note_id}}", _document_reference, CASE),
    Row("GET", f"{FHIR}/Practitioner/{{user_id}}", _practitioner, COLLEAGUE),
    Row("GET", f"{FHIR}/Practitioner/{{user_id}}", _interpreter, INTERPRETER),
    Row("GET", f"{FHIR}/Organization/{{organization_id}}", _organization, FACILITY),
    # Rounds: staff, the host facility and its apps (rounds:read); others 404.
    Row("GET", f"{FHIR}/Appointment/{{occurrence_id}}", _appointment, CASE),
]
