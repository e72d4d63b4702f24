"""The FHIR R4 surface under /api/v1/fhir (thin: parse, authorise, one service call).

Reads answer with `ETag: W/"<versionId>"` and 304 to a matching If-None-Match; searches
answer a searchset Bundle with the true `total` and `self`/`next` links; every error is an
OperationOutcome (app.fhir.routing.FhirRoute)."""

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import StringConstraints

from app.core.conditional import IfNoneMatch, check_if_none_match, weak_etag
from app.core.deps import CasesRead, RoundsRead, SessionDep
from app.core.routing import autocommit, make_router
from app.fhir import appointments, people, service
from app.fhir import search as fs
from app.fhir.capability import capability_statement
from app.fhir.resources import REQUEST_STATUS, TASK_STATUS
from app.fhir.routing import FhirResponse, FhirRoute, SearchDep, fhir_base, outcome_responses
from app.fhir.schemas import (
    FhirAppointment,
    FhirBundle,
    FhirCapabilityStatement,
    FhirCommunication,
    FhirDocumentReference,
    FhirOrganization,
    FhirPractitioner,
    FhirServiceRequest,
    FhirTask,
)

router = make_router(route_class=FhirRoute, tags=["fhir"])

ResourceId = Annotated[
    str,
    Path(
        pattern=fs.REFERENCE_PATTERN,
        description="The FHIR id (our id with `-` for `_`; either spelling is accepted).",
    ),
]
DateValue = Annotated[str, StringConstraints(pattern=fs.DATE_PATTERN)]
LastUpdated = Annotated[
    list[DateValue] | None, Query(alias="_lastUpdated", description=fs.DATE_DESCRIPTION)
]
Dates = Annotated[list[DateValue] | None, Query(description=fs.DATE_DESCRIPTION)]
READ_ERRORS = outcome_responses(304, 400, 401, 403, 404)
SEARCH_ERRORS = outcome_responses(400, 401, 403)


def _read(request: Request, found: tuple[dict[str, Any], str]) -> FhirResponse:
    resource, version = found
    tag = weak_etag(version)
    check_if_none_match(request, tag)
    return FhirResponse(resource, headers={"ETag": tag})


REQUEST_CODES = (
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
)
TASK_CODES = (
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)
assert set(REQUEST_STATUS.values()) <= set(REQUEST_CODES)
assert set(TASK_STATUS.values()) <= set(TASK_CODES)


def _codes(kind: str, codes: tuple[str, ...]) -> Any:
    return Query(
        pattern=fs.token_pattern(codes),
        description=f"{kind} status codes, comma-separated (any of them): {', '.join(codes)}.",
    )


def _ref(kind: str, what: str, alias: str | None = None) -> Any:
    return Query(
        alias=alias, pattern=fs.reference_pattern(kind), description=f"{kind}/{{id}}: {what}"
    )


RequestStatus = Annotated[str | None, _codes("ServiceRequest", REQUEST_CODES)]
TaskStatus = Annotated[str | None, _codes("Task", TASK_CODES)]
AppointmentStatus = Annotated[
    str | None, _codes("Appointment", ("booked", "fulfilled", "cancelled"))
]
Requester = Annotated[str | None, _ref("Organization", "the facility that asked")]
Specialist = Annotated[str | None, _ref("Practitioner", "the assigned specialist")]
BasedOn = Annotated[str | None, _ref("ServiceRequest", "the case's messages", "based-on")]
PartOf = Annotated[str | None, _ref("ServiceRequest", "the same as based-on", "part-of")]
Related = Annotated[str | None, _ref("ServiceRequest", "the case's signed notes")]


def _patient(alias: str) -> Any:
    return Query(
        alias=alias,
        min_length=1,
        max_length=400,
        description="The patient's identifier, `[system|]value`: the facility's own reference "
        "(as the ServiceRequest's `subject.identifier` gives it).",
    )


SubjectIdentifier = Annotated[str | None, _patient("subject:identifier")]
PatientIdentifier = Annotated[str | None, _patient("patient:identifier")]


@router.get(
    "/fhir/metadata",
    response_model=FhirCapabilityStatement,
    response_class=FhirResponse,
    summary="The server's CapabilityStatement (FHIR R4): types, interactions, search parameters",
    responses=outcome_responses(),
)
async def fhir_metadata(request: Request) -> FhirResponse:
    return FhirResponse(capability_statement(fhir_base(request)))


# ------------------------------------------------------------------- cases


@router.get(
    "/fhir/ServiceRequest/{case_id}",
    response_model=FhirServiceRequest,
    response_class=FhirResponse,
    summary="The case as a FHIR R4 ServiceRequest",
    responses=READ_ERRORS,
)
@autocommit
async def fhir_service_request(
    request: Request,
    case_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await service.read_case(session, p, case_id, "ServiceRequest"))


@router.get(
    "/fhir/ServiceRequest",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the cases you may see, as FHIR R4 ServiceRequests (newest first)",
    responses=SEARCH_ERRORS,
)
@autocommit
async def fhir_search_service_requests(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    status: RequestStatus = None,
    last_updated: LastUpdated = None,
    requester: Requester = None,
    performer: Specialist = None,
) -> FhirResponse:
    return FhirResponse(
        await service.search_cases(
            session,
            p,
            s,
            status=status,
            last_updated=last_updated,
            requester=requester,
            performer=performer,
        )
    )


@router.get(
    "/fhir/Task/{case_id}",
    response_model=FhirTask,
    response_class=FhirResponse,
    summary="The case's progress as a FHIR R4 Task",
    responses=READ_ERRORS,
)
@autocommit
async def fhir_task(
    request: Request,
    case_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await service.read_case(session, p, case_id, "Task"))


@router.get(
    "/fhir/Task",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the cases you may see, as FHIR R4 Tasks (newest first)",
    responses=SEARCH_ERRORS,
)
@autocommit
async def fhir_search_tasks(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    status: TaskStatus = None,
    last_updated: LastUpdated = None,
    requester: Requester = None,
    owner: Specialist = None,
) -> FhirResponse:
    return FhirResponse(
        await service.search_cases(
            session,
            p,
            s,
            status=status,
            last_updated=last_updated,
            requester=requester,
            performer=owner,
        )
    )


# ------------------------------------------------------------------- messages


@router.get(
    "/fhir/Communication/{message_id}",
    response_model=FhirCommunication,
    response_class=FhirResponse,
    summary="A consult message as a FHIR R4 Communication",
    responses=READ_ERRORS,
)
@autocommit
async def fhir_communication(
    request: Request,
    message_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await service.read_communication(session, p, message_id))


@router.get(
    "/fhir/Communication",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the messages of cases you see in full, as FHIR R4 Communications",
    responses=SEARCH_ERRORS,
)
@autocommit
async def fhir_communications(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    based_on: BasedOn = None,
    part_of: PartOf = None,
    sent: Dates = None,
) -> FhirResponse:
    return FhirResponse(
        await service.search_communications(
            session, p, s, based_on=based_on, part_of=part_of, sent=sent
        )
    )


# ------------------------------------------------------------------- signed notes


@router.get(
    "/fhir/DocumentReference/{note_id}",
    response_model=FhirDocumentReference,
    response_class=FhirResponse,
    summary="A signed consult note as a FHIR R4 DocumentReference (its text attached)",
    responses=READ_ERRORS,
)
@autocommit
async def fhir_document_reference(
    request: Request,
    note_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await service.read_document_reference(session, p, note_id))


@router.get(
    "/fhir/DocumentReference",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the signed notes of cases you see in full, as FHIR R4 DocumentReferences",
    responses=SEARCH_ERRORS,
)
@autocommit
async def fhir_document_references(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    related: Related = None,
    date: Dates = None,
    subject: SubjectIdentifier = None,
    patient: PatientIdentifier = None,
) -> FhirResponse:
    return FhirResponse(
        await service.search_document_references(
            session,
            p,
            s,
            related=related,
            date=date,
            patients=[
                (n, v)
                for n, v in (("subject:identifier", subject), ("patient:identifier", patient))
                if v
            ],
        )
    )


# ------------------------------------------------------------------- people and facilities


@router.get(
    "/fhir/Practitioner/{user_id}",
    response_model=FhirPractitioner,
    response_class=FhirResponse,
    summary="A person (specialist, clinician, interpreter, coordinator) as a FHIR R4 Practitioner",
    responses=outcome_responses(304, 400, 401, 403, 404),
)
@autocommit
async def fhir_practitioner(
    request: Request,
    user_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await people.read_practitioner(session, p, user_id))


Name = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="Starts the name or a word of it (any case)."),
]


@router.get(
    "/fhir/Practitioner",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the people you may see, as FHIR R4 Practitioners",
    responses=outcome_responses(400, 401, 403),
)
@autocommit
async def fhir_search_practitioners(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    name: Name = None,
    active: Annotated[bool | None, Query(description="true or false")] = None,
    last_updated: LastUpdated = None,
) -> FhirResponse:
    return FhirResponse(
        await people.search_practitioners(
            session, p, s, name=name, active=active, last_updated=last_updated
        )
    )


@router.get(
    "/fhir/Organization/{organization_id}",
    response_model=FhirOrganization,
    response_class=FhirResponse,
    summary="A facility as a FHIR R4 Organization",
    responses=outcome_responses(304, 400, 401, 403, 404),
)
@autocommit
async def fhir_organization(
    request: Request,
    organization_id: ResourceId,
    session: SessionDep,
    p: CasesRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await people.read_organization(session, p, organization_id))


@router.get(
    "/fhir/Organization",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the facilities you may see, as FHIR R4 Organizations",
    responses=outcome_responses(400, 401, 403),
)
@autocommit
async def fhir_search_organizations(
    session: SessionDep,
    p: CasesRead,
    s: SearchDep,
    name: Name = None,
    address_country: Annotated[
        str | None,
        Query(alias="address-country", pattern="^[A-Za-z]{2}$", description="ISO 3166 code"),
    ] = None,
    last_updated: LastUpdated = None,
) -> FhirResponse:
    return FhirResponse(
        await people.search_organizations(
            session, p, s, name=name, country=address_country, last_updated=last_updated
        )
    )


# ------------------------------------------------------------------- rounds


@router.get(
    "/fhir/Appointment/{occurrence_id}",
    response_model=FhirAppointment,
    response_class=FhirResponse,
    summary="A round occurrence as a FHIR R4 Appointment "
    "(id: `{round id, _ as -}-{original start, YYYYMMDDTHHMMSSZ}`)",
    responses=outcome_responses(304, 400, 401, 403, 404),
)
@autocommit
async def fhir_appointment(
    request: Request,
    occurrence_id: ResourceId,
    session: SessionDep,
    p: RoundsRead,
    if_none_match: IfNoneMatch = None,
) -> FhirResponse:
    return _read(request, await appointments.read_appointment(session, p, occurrence_id))


@router.get(
    "/fhir/Appointment",
    response_model=FhirBundle,
    response_class=FhirResponse,
    summary="Search the occurrences of rounds you may see, as FHIR R4 Appointments",
    description="The window runs from the lower `date` bound (now when none) to the upper"
    " one (90 days later when none), at most two years.",
    responses=outcome_responses(400, 401, 403),
)
@autocommit
async def fhir_search_appointments(
    session: SessionDep,
    p: RoundsRead,
    s: SearchDep,
    date: Dates = None,
    status: AppointmentStatus = None,
) -> FhirResponse:
    return FhirResponse(
        await appointments.search_appointments(session, p, s, date=date, status=status)
    )


# Any other FHIR path: an OperationOutcome, like every error here (not in the schema).
@router.get("/fhir/{resource_type}", include_in_schema=False)
@router.get("/fhir/{resource_type}/{resource_id}", include_in_schema=False)
async def fhir_unsupported(resource_type: str) -> FhirResponse:
    raise service.FhirNotFound(f"This server serves no {resource_type[:40]} resources.")
