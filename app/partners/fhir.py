"""FHIR R4 views of our records: plain JSON built here, validated in the tests with
fhir.resources. FHIR ids allow no underscore, so `case_abc` is served as `case-abc`
(both spellings are accepted on the way in)."""

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
        "identifier": {
            "system": f"{SYSTEM}/organization/{case.organization_id}/patient",
            "value": case.patient_reference,
        }
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


def _actor(user_id: str) -> dict[str, str]:
    kind = "Device" if user_id.startswith("cli_") else "Practitioner"  # an API client's app
    return {"reference": f"{kind}/{fhir_id(user_id)}"}


def communication(case: Case, m: Any) -> dict[str, Any]:
    """One consult-room message (app.consults.models.Message)."""
    return {
        "resourceType": "Communication",
        "id": fhir_id(m.id),
        "identifier": [{"system": f"{SYSTEM}/case/{case.id}/message-seq", "value": str(m.seq)}],
        "basedOn": [{"reference": f"ServiceRequest/{fhir_id(case.id)}"}],
        "status": "completed",
        "subject": subject(case, True),
        "sent": instant(m.created_at),
        "sender": _actor(m.sender_id),
        "payload": [{"contentString": m.body}],
    }


def bundle(
    self_url: str, resources: list[dict[str, Any]], base: str, next_url: str | None = None
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


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
