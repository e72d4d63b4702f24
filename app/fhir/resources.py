"""FHIR R4 resources built from our records: plain JSON built here, validated in the tests
with fhir.resources. FHIR ids allow no underscore, so `case_abc` is served as `case-abc`
(both spellings are accepted on the way in).

ServiceRequest and Task: a case. Communication: a message of a case's room.
DocumentReference: a signed consult note. Practitioner: a person with an account.
Organization: a facility. Appointment: one occurrence of a round.
Patient data is kept to what the case's own view shows: a patient identifier, never a name."""

import base64
from datetime import UTC, datetime
from typing import Any

from app.cases.models import Case, CaseStatus

SYSTEM = "https://consult.example.org/fhir"

# The case lifecycle mapped onto FHIR's Task state machine (one to one).
TASK_STATUS = {
    CaseStatus.submitted: "requested",  # waiting for the programme to act
    CaseStatus.offered: "received",  # offered to specialists, nobody has taken it yet
    CaseStatus.assigned: "accepted",  # a specialist took it
    CaseStatus.answered: "in-progress",  # consult note signed; follow-up until closed
    CaseStatus.closed: "completed",
    CaseStatus.cancelled: "cancelled",
    CaseStatus.unmatched: "rejected",  # every offer lapsed or was declined
}
REQUEST_STATUS = {CaseStatus.closed: "completed", CaseStatus.cancelled: "revoked"}
PRIORITY = {"routine": "routine", "urgent": "urgent", "emergency": "stat"}


def fhir_id(our_id: str) -> str:
    return our_id.replace("_", "-")


def our_id(value: str) -> str:
    """`case-abc` or `case_abc` -> `case_abc` (our ids have one underscore after a prefix)."""
    return value if "_" in value else value.replace("-", "_", 1)


def instant(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _meta(case: Case) -> dict[str, Any]:
    return {"versionId": str(case.version), "lastUpdated": instant(case.updated_at)}


def subject(case: Case, full: bool) -> dict[str, Any]:
    if not full:  # a specialist weighing an offer sees no patient reference
        return {"display": "Patient of the referring facility (withheld until assignment)"}
    return {
        "type": "Patient",
        "identifier": {
            "system": f"{SYSTEM}/organization/{case.organization_id}/patient",
            "value": case.patient_reference,
        },
    }


def _identifier(case: Case) -> list[dict[str, str]]:
    return [{"system": f"{SYSTEM}/case", "value": case.id}]


def service_request(case: Case, full: bool) -> dict[str, Any]:
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": fhir_id(case.id),
        "meta": _meta(case),
        "identifier": _identifier(case),
        "status": REQUEST_STATUS.get(CaseStatus(case.status), "active"),
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "11429006",
                        "display": "Consultation",
                    }
                ]
            }
        ],
        "priority": PRIORITY.get(case.urgency, "routine"),
        "code": {
            "coding": [{"system": f"{SYSTEM}/specialty", "code": case.specialty}],
            "text": f"Teleconsultation: {case.specialty.replace('_', ' ')}",
        },
        "subject": subject(case, full),
        "occurrencePeriod": {"start": instant(case.created_at), "end": instant(case.respond_by)},
        "authoredOn": instant(case.created_at),
        "requester": {"reference": f"Organization/{fhir_id(case.organization_id)}"},
        "reasonCode": [{"text": case.question}],
    }
    if case.assigned_specialist_id:
        sr["performer"] = [{"reference": f"Practitioner/{fhir_id(case.assigned_specialist_id)}"}]
    if case.summary:
        sr["note"] = [{"text": case.summary}]
    if case.languages:
        sr["extension"] = [
            {
                "url": f"{SYSTEM}/StructureDefinition/languages",
                "valueString": " ".join(case.languages),
            }
        ]
    return sr


def task(case: Case, full: bool) -> dict[str, Any]:
    t: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id(case.id),
        "meta": _meta(case),
        "identifier": _identifier(case),
        "basedOn": [{"reference": f"ServiceRequest/{fhir_id(case.id)}"}],
        "status": TASK_STATUS[CaseStatus(case.status)],
        "businessStatus": {
            "coding": [{"system": f"{SYSTEM}/case-status", "code": case.status}],
            "text": case.status,
        },
        "intent": "order",
        "priority": PRIORITY.get(case.urgency, "routine"),
        "focus": {"reference": f"ServiceRequest/{fhir_id(case.id)}"},
        "for": subject(case, full),
        "authoredOn": instant(case.created_at),
        "lastModified": instant(case.updated_at),
        "requester": {"reference": f"Organization/{fhir_id(case.organization_id)}"},
        "restriction": {"period": {"end": instant(case.respond_by)}},
    }
    if case.assigned_specialist_id:
        t["owner"] = {"reference": f"Practitioner/{fhir_id(case.assigned_specialist_id)}"}
    if case.assigned_at:
        period = {"start": instant(case.assigned_at)}
        end = case.closed_at or case.cancelled_at
        if end:
            period["end"] = instant(end)
        t["executionPeriod"] = period
    if case.status == CaseStatus.closed and case.outcome and full:
        t["output"] = [{"type": {"text": "outcome"}, "valueString": case.outcome}]
    return t


def _actor(user_id: str) -> dict[str, Any]:
    if user_id.startswith("cli_"):  # a facility's app: a logical reference (no Device served)
        return {
            "identifier": {"system": f"{SYSTEM}/api-client", "value": user_id},
            "display": "Application of the facility",
        }
    return {"reference": f"Practitioner/{fhir_id(user_id)}"}


def communication(case: Case, m: Any) -> dict[str, Any]:
    """One consult-room message (app.consults.models.Message)."""
    return {
        "resourceType": "Communication",
        "id": fhir_id(m.id),
        # A message never changes once sent: version 1, last updated when sent.
        "meta": {"versionId": "1", "lastUpdated": instant(m.created_at)},
        "identifier": [{"system": f"{SYSTEM}/case/{case.id}/message-seq", "value": str(m.seq)}],
        "basedOn": [{"reference": f"ServiceRequest/{fhir_id(case.id)}"}],
        "status": "completed",
        "subject": subject(case, True),
        "sent": instant(m.created_at),
        "sender": _actor(m.sender_id),
        "payload": [{"contentString": m.body}],
    }


# A signed note's kind as a LOINC document type (an addendum is a consult note's, and says
# which note it appends to in relatesTo).
NOTE_TYPE = {
    "consult": ("11488-4", "Consult note"),
    "progress": ("11506-3", "Progress note"),
    "addendum": ("11488-4", "Consult note"),
}
# The note's fields as the document's sections, in the order the note page shows them.
NOTE_SECTIONS = (
    ("assessment", "Assessment"),
    ("recommendations", "Recommendations"),
    ("follow_up_plan", "Follow-up plan"),
    ("red_flags", "Red flags"),
    ("referral_advice", "Referral advice"),
)


def note_text(note: Any) -> str:
    """A signed note as plain text: each field that says something, under its heading."""
    parts = [f"{title}\n{text}" for name, title in NOTE_SECTIONS if (text := getattr(note, name))]
    return "\n\n".join(parts)


def document_reference(case: Case, note: Any) -> dict[str, Any]:
    """A signed consult note (app.notes.models.Note) as the document a facility's record
    files: its text as an attachment, the specialist as author and authenticator, the case
    as context. Only signed notes are served: a draft is not yet advice."""
    code, display = NOTE_TYPE.get(note.kind, NOTE_TYPE["consult"])
    signed = instant(note.signed_at)
    doc: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": fhir_id(note.id),
        # A signed note never changes again: its version is the one that was signed.
        "meta": {"versionId": str(note.version), "lastUpdated": signed},
        "identifier": [{"system": f"{SYSTEM}/note", "value": note.id}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": code, "display": display}],
            "text": f"{note.kind.capitalize()} note",
        },
        "subject": subject(case, True),
        "date": signed,
        "author": [_actor(note.author_id)],
        "authenticator": _actor(note.signed_by_id or note.author_id),
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(note_text(note).encode()).decode(),
                    "title": f"{note.kind.capitalize()} note",
                    "creation": signed,
                }
            }
        ],
        "context": {"related": [{"reference": f"ServiceRequest/{fhir_id(case.id)}"}]},
    }
    if note.amends_id:
        doc["relatesTo"] = [
            {
                "code": "appends",
                "target": {"reference": f"DocumentReference/{fhir_id(note.amends_id)}"},
            }
        ]
    return doc


def bundle(
    self_url: str,
    resources: list[dict[str, Any]],
    base: str,
    total: int,
    next_url: str | None = None,
) -> dict[str, Any]:
    """A searchset: `total` is every match, not this page's size."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    b: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if resources:
        b["entry"] = [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ]
    return b


def version_of(t: datetime) -> str:
    """A version for a record that keeps no counter: its last change, in microseconds."""
    return str(int(t.timestamp() * 1_000_000))


def practitioner(user: Any) -> dict[str, Any]:
    """A person with an account (app.auth.models.User): name and role only, no contact."""
    return {
        "resourceType": "Practitioner",
        "id": fhir_id(user.id),
        "meta": {"versionId": version_of(user.updated_at), "lastUpdated": instant(user.updated_at)},
        "identifier": [{"system": f"{SYSTEM}/user", "value": user.id}],
        "active": bool(user.active),
        "name": [{"text": user.name}],
        "extension": [{"url": f"{SYSTEM}/StructureDefinition/role", "valueCode": user.role}],
    }


def organization(org: Any) -> dict[str, Any]:
    """A facility (app.organizations.models.Organization)."""
    return {
        "resourceType": "Organization",
        "id": fhir_id(org.id),
        "meta": {"versionId": version_of(org.updated_at), "lastUpdated": instant(org.updated_at)},
        "identifier": [{"system": f"{SYSTEM}/organization", "value": org.id}],
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        "name": org.name,
        "address": [{"country": org.country}],
    }


ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}


def operation_outcome(
    status: int, detail: str, expressions: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The error of a FHIR interaction: one issue, or one per (parameter, detail)."""
    code = ISSUE_CODE.get(status, "exception")
    severity = "error" if status < 500 else "fatal"
    issues = [
        {
            "severity": severity,
            "code": code,
            "diagnostics": f"{detail} {what}".strip(),
            "expression": [where],
        }
        for where, what in (expressions or [])
    ] or [{"severity": severity, "code": code, "diagnostics": detail}]
    return {"resourceType": "OperationOutcome", "issue": issues}


def occurrence_id(series_id: str, original_start: datetime) -> str:
    return f"{fhir_id(series_id)}-{original_start.strftime('%Y%m%dT%H%M%SZ')}"


def parse_occurrence_id(value: str) -> tuple[str, datetime] | None:
    """`rnd-<id>-20261124T140000Z` -> (series id, original start in UTC)."""
    head, _, stamp = value.rpartition("-")
    try:
        start = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return (our_id(head), start) if head else None


def appointment(
    series: Any,
    original: datetime,
    start: datetime,
    end: datetime,
    cancelled: bool,
    participants: list[Any],
    now: datetime,
) -> dict[str, Any]:
    """One occurrence of a round series (app.rounds.models.RoundSeries)."""
    status = "cancelled" if cancelled else ("fulfilled" if end <= now else "booked")
    people = [
        {
            "actor": _actor(p.user_id),
            "type": [{"text": p.role}],
            "required": "required",
            "status": "accepted",
        }
        for p in participants
    ]
    people.append(
        {"type": [{"text": "host facility team"}], "required": "required", "status": "accepted"}
    )
    appt: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": occurrence_id(series.id, original),
        "meta": {"versionId": str(series.version), "lastUpdated": instant(series.updated_at)},
        "identifier": [
            {"system": f"{SYSTEM}/round/{series.id}/occurrence", "value": instant(original)}
        ],
        "status": status,
        "serviceType": [
            {
                "coding": [{"system": f"{SYSTEM}/specialty", "code": series.specialty}],
                "text": f"Virtual round: {series.specialty.replace('_', ' ')}",
            }
        ],
        "description": series.title,
        "start": instant(start),
        "end": instant(end),
        "minutesDuration": max(1, int((end - start).total_seconds() // 60)),
        "created": instant(series.created_at),
        "participant": people,
    }
    if series.teaching_topic:
        appt["comment"] = series.teaching_topic
    return appt
