"""Cases: intake, the two views, attachments, participants, cancel and close."""

from typing import Annotated, Any

import pydantic_core
from fastapi import Query, Request, Response
from fastapi.responses import FileResponse

from app.cases import attachments, service
from app.cases.access import View
from app.cases.dependencies import FullCase, VisibleCase
from app.cases.models import CaseStatus, Urgency
from app.cases.presentation import etag, present
from app.cases.schemas import (
    AttachmentRead,
    CaseCancel,
    CaseClose,
    CaseCreate,
    CasePage,
    CaseRead,
    CaseView,
    ParticipantCreate,
    ParticipantRead,
)
from app.core import conditional
from app.core.conditional import CONDITIONAL_READ, IfMatch
from app.core.deps import CasesRead, CasesWrite, SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import body_stream
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router

router = make_router(tags=["cases"])
API = "/api/v1"

_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "JPEG, PNG, WebP, HEIC or PDF (judged by the bytes).",
                    },
                    "description": {"type": "string", "maxLength": 500},
                },
            },
            # The file part is the bytes of a photo or PDF; shown here by its name.
            "example": {"file": "rash-left-forearm.jpg", "description": "Left forearm, day 21"},
        }
    },
}


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Hot paths: the service already shaped the payload exactly as the response_model says
    (the tests compare list items with single reads), so serialise it straight to JSON
    instead of validating 50 cases again; the response_model still documents the shape."""
    return Response(
        pydantic_core.to_json(payload),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _attachment(att: Any) -> dict[str, Any]:
    data = AttachmentRead.model_validate(
        {**att.model_dump(), "content_url": f"{API}/attachments/{att.id}/content"}
    )
    return data.model_dump()


@router.post(
    "/cases",
    response_model=CaseRead,
    status_code=201,
    summary="Submit a case (consult request)",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_case(session: SessionDep, p: CasesWrite, body: CaseCreate) -> object:
    case = await service.create_case(session, p, body)
    return _json(
        present(case, View.full),
        201,
        {"Location": f"{API}/cases/{case.id}", "ETag": etag(case)},
    )


@router.get(
    "/cases",
    response_model=CasePage,
    summary="List the cases you may see, newest first",
    description="Each item has `view`: `full`, or `summary` for a case only offered to "
    "you (no patient reference, no attachments).",
    responses=problem_responses(400, 401, 403),
)
@autocommit
async def list_cases(
    session: SessionDep,
    p: CasesRead,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: CaseStatus | None = None,
    specialty: Annotated[str | None, Query(max_length=60)] = None,
    urgency: Urgency | None = None,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
    overdue: Annotated[
        bool | None, Query(description="true: only cases past respond_by with no signed note")
    ] = None,
) -> object:
    items, nxt = await service.list_cases(
        session,
        p,
        limit,
        cursor,
        status=status,
        specialty=specialty,
        urgency=urgency,
        organization_id=organization_id,
        overdue=overdue,
    )
    # The items are JSON the database wrote (app.cases.service.list_cases).
    body = b'{"items":[' + ",".join(items).encode() + b'],"next_cursor":'
    return Response(body + pydantic_core.to_json(nxt) + b"}", media_type="application/json")


@router.get(
    "/cases/{case_id}",
    response_model=CaseView,
    summary="One case",
    description="The whole case (`view: full`), or its summary (`view: summary`: no "
    "patient reference, no attachments) for a specialist who only holds a "
    "pending offer.",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_case(session: SessionDep, p: CasesRead, case_id: str) -> object:
    body, tag = await service.read_case(session, p, case_id)
    # The JSON the database keeps for the case, in the shape CaseView documents.
    return Response(body, headers={"ETag": tag}, media_type="application/json")


@router.post(
    "/cases/{case_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    summary="Attach a file (multipart, part `file`)",
    description="Streamed to disk; at most `MAX_ATTACHMENT_BYTES` (20 MB by default); "
    "the type is detected from the bytes: JPEG, PNG, WebP, HEIC or PDF.",
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
async def upload_attachment(
    request: Request, session: SessionDep, p: CasesWrite, case: FullCase, response: Response
) -> object:
    att = await attachments.store(
        session, p, case, body_stream(request), request.headers.get("content-type")
    )
    response.headers["Location"] = f"{API}/attachments/{att.id}/content"
    return _attachment(att)


@router.get(
    "/cases/{case_id}/attachments",
    response_model=Page[AttachmentRead],
    summary="The case's attachments",
    responses=problem_responses(400, 401, 403, 404),
)
@autocommit
async def list_attachments(
    session: SessionDep,
    p: CasesRead,
    case: FullCase,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await attachments.list_for_case(session, p, case, limit, cursor)
    return {"items": [_attachment(a) for a in items], "next_cursor": nxt}


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=FileResponse,
    summary="Download an attachment",
    responses={
        200: {
            "description": "The file, with its detected type.",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in sorted(attachments.ALLOWED)
            },
        },
        **problem_responses(401, 403, 404),
    },
)
async def download_attachment(
    session: SessionDep, p: CasesRead, attachment_id: str
) -> FileResponse:
    att, path = await attachments.open_content(session, p, attachment_id)
    return FileResponse(
        path,
        media_type=att.content_type,
        filename=att.filename,
        content_disposition_type="attachment",
        headers={
            "ETag": conditional.etag(att.sha256),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/cases/{case_id}/participants",
    response_model=ParticipantRead,
    status_code=201,
    summary="Add an interpreter or a second specialist",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_participant(
    session: SessionDep,
    p: CasesWrite,
    visible: VisibleCase,
    body: ParticipantCreate,
    response: Response,
) -> object:
    case, view = visible
    part = await service.add_participant(session, p, case, view, body.user_id, body.role)
    response.headers["Location"] = f"{API}/cases/{case.id}/participants"
    return part


@router.get(
    "/cases/{case_id}/participants",
    response_model=Page[ParticipantRead],
    summary="Who was added to the case",
    responses=problem_responses(400, 401, 403, 404),
)
@autocommit
async def list_participants(
    session: SessionDep,
    p: CasesRead,
    case: FullCase,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_participants(session, p, case, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.post(
    "/cases/{case_id}/cancel",
    response_model=CaseRead,
    summary="Cancel a case",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def cancel_case(
    session: SessionDep,
    p: CasesWrite,
    visible: VisibleCase,
    response: Response,
    if_match: IfMatch = None,
    body: CaseCancel | None = None,
) -> object:
    case, _ = visible
    await service.cancel_case(session, p, case, body.reason if body else None, if_match)
    response.headers["ETag"] = etag(case)
    return present(case, View.full)


@router.post(
    "/cases/{case_id}/close",
    response_model=CaseRead,
    summary="Close an answered case with its outcome",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def close_case(
    session: SessionDep,
    p: CasesWrite,
    visible: VisibleCase,
    body: CaseClose,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    case, _ = visible
    await service.close_case(session, p, case, body.outcome, if_match)
    response.headers["ETag"] = etag(case)
    return present(case, View.full)
