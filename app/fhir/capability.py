"""The CapabilityStatement (GET /fhir/metadata): what this server serves, as a FHIR client
discovers it. The table below is the one list of resource types and search parameters;
tests/fhir checks that every route serves what it says."""

from typing import Any

from app.core.clock import utcnow
from app.fhir.resources import SYSTEM, instant

_COMMON = [
    ("_count", "number", "Page size; clamped to 200. 0: the total only."),
]
_UPDATED = ("_lastUpdated", "date", "When the record last changed (prefixes eq ne gt lt ge le).")

SEARCH: dict[str, list[tuple[str, str, str]]] = {
    "ServiceRequest": [
        ("status", "token", "active, completed or revoked (comma: any of them)."),
        _UPDATED,
        ("requester", "reference", "Organization/{id}: the facility that asked."),
        ("performer", "reference", "Practitioner/{id}: the assigned specialist."),
    ],
    "Task": [
        ("status", "token", "requested, received, accepted, in-progress, completed, ..."),
        _UPDATED,
        ("requester", "reference", "Organization/{id}: the facility that asked."),
        ("owner", "reference", "Practitioner/{id}: the assigned specialist."),
    ],
    "Communication": [
        ("based-on", "reference", "ServiceRequest/{id}: the case's messages."),
        ("part-of", "reference", "The same as based-on."),
        ("sent", "date", "When the message was sent."),
    ],
    "DocumentReference": [
        ("related", "reference", "ServiceRequest/{id}: the case's signed notes."),
        (
            "subject:identifier",
            "token",
            "[system|]value: one patient's, by the facility's reference (send the system a "
            "ServiceRequest's subject.identifier gives: a bare value matches that reference "
            "at every facility you see).",
        ),
        ("patient:identifier", "token", "The same as subject:identifier."),
        ("date", "date", "When the note was signed."),
    ],
    "Practitioner": [
        ("name", "string", "The name, or a word of it, starts with this (any case)."),
        ("active", "token", "true or false."),
        _UPDATED,
    ],
    "Organization": [
        ("name", "string", "The name, or a word of it, starts with this (any case)."),
        ("address-country", "string", "ISO 3166 two-letter country code."),
        _UPDATED,
    ],
    "Appointment": [
        ("date", "date", "The occurrence's start; the window is at most two years."),
        ("status", "token", "booked, fulfilled or cancelled."),
    ],
}


def capability_statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "consult",
        "url": f"{SYSTEM}/CapabilityStatement/consult",
        "name": "ConsultFhirServer",
        "title": "Teleconsultation programme: FHIR R4 read and search",
        "status": "active",
        "date": instant(utcnow().replace(microsecond=0)),
        "publisher": "Teleconsultation programme",
        "kind": "instance",
        "implementation": {"description": "The consult service's FHIR surface", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read and type-level search; unknown search parameters are"
                " ignored unless `Prefer: handling=strict` is sent.",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Bearer tokens from /api/v1/auth/token (OAuth 2).",
                },
                "resource": [
                    {
                        "type": kind,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "versioning": "versioned",
                        "readHistory": False,
                        "conditionalRead": "not-match",
                        "searchParam": [
                            {"name": n, "type": t, "documentation": d}
                            for n, t, d in [*params, *_COMMON]
                        ],
                    }
                    for kind, params in SEARCH.items()
                ],
            }
        ],
    }
