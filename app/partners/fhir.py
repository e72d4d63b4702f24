"""FHIR R4 views of our records: plain JSON built here, validated in the tests with
fhir.resources. FHIR ids allow no underscore, so `case_abc` is served as `case-abc`
(both spellings are accepted on the way in)."""

from datetime import datetime
from typing import Any

from app.cases.models import Case, CaseStatus

SYSTEM = "https://consult.example.org/fhir"

# The case lifecycle mapped onto FHIR's Task state machine (one to one).
TASK_STATUS = {
    CaseStatus.submitted: "requested",   # waiting for the programme to act
    CaseStatus.offered: "received",      # offered to specialists, nobody has taken it yet
    CaseStatus.assigned: "accepted",     # a specialist took it
    CaseStatus.answered: "in-progress",  # consult note signed; follow-up until closed
    CaseStatus.closed: "completed",
    CaseStatus.cancelled: "cancelled",
    CaseStatus.unmatched: "rejected",    # every offer lapsed or was declined
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
    return {"identifier": {"system": f"{SYSTEM}/organization/{case.organization_id}/patient",
                           "value": case.patient_reference}}


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
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "11429006",
                                  "display": "Consultation"}]}],
        "priority": PRIORITY.get(case.urgency, "routine"),
        "code": {"coding": [{"system": f"{SYSTEM}/specialty", "code": case.specialty}],
                 "text": f"Teleconsultation: {case.specialty.replace('_', ' ')}"},
        "subject": subject(case, full),
        "occurrencePeriod": {"start": instant(case.created_at),
                             "end": instant(case.respond_by)},
        "authoredOn": instant(case.created_at),
        "requester": {"reference": f"Organization/{fhir_id(case.organization_id)}"},
        "reasonCode": [{"text": case.question}],
    }
    if case.assigned_specialist_id:
        sr["performer"] = [{"reference": f"Practitioner/{fhir_id(case.assigned_specialist_id)}"}]
    if case.summary:
        sr["note"] = [{"text": case.summary}]
    if case.languages:
        sr["extension"] = [{"url": f"{SYSTEM}/StructureDefinition/languages",
                            "valueString": " ".join(case.languages)}]
    return sr


def task(case: Case, full: bool) -> dict[str, Any]:
    t: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id(case.id),
        "meta": _meta(case),
        "identifier": _identifier(case),
        "basedOn": [{"reference": f"ServiceRequest/{fhir_id(case.id)}"}],
        "status": TASK_STATUS[CaseStatus(case.status)],
        "businessStatus": {"coding": [{"system": f"{SYSTEM}/case-status",
                                       "code": case.status}], "text": case.status},
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
