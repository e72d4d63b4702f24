from typing import Annotated

from fastapi import Query, Response

from app.cases.dependencies import FullCase
from app.core.conditional import CONDITIONAL_READ, IfMatch, etag, with_etag
from app.core.deps import CasesRead, CasesWrite, SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.followups import service
from app.followups.models import FollowUp, FollowUpStatus
from app.followups.schemas import (
    FeedbackCreate,
    FeedbackRead,
    FollowUpCreate,
    FollowUpListed,
    FollowUpRead,
    FollowUpUpdate,
)

router = make_router(tags=["follow-up"])


def _with_etag(response: Response, fu: FollowUp) -> FollowUp:
    response.headers["ETag"] = etag(fu.version)
    return fu


@router.post(
    "/cases/{case_id}/follow-ups",
    response_model=FollowUpRead,
    status_code=201,
    summary="Plan a follow-up with a due date and an owner who can see the case",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_follow_up(
    session: SessionDep,
    p: CasesWrite,
    case: FullCase,
    body: FollowUpCreate,
    response: Response,
) -> object:
    fu = await service.create(session, p, case, body.model_dump())
    response.headers["Location"] = f"/api/v1/follow-ups/{fu.id}"
    return _with_etag(response, fu)


@router.get(
    "/follow-ups",
    response_model=Page[FollowUpListed],
    summary="Follow-ups on the cases you see; overdue=true lists the late ones",
    responses=problem_responses(401, 403, 422),
)
@autocommit
async def list_follow_ups(
    session: SessionDep,
    p: CasesRead,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: FollowUpStatus | None = None,
    overdue: Annotated[bool | None, Query(description="Open and past their due time.")] = None,
    case_id: str | None = None,
    assignee_id: str | None = None,
) -> object:
    items, nxt = await service.list_(
        session,
        p,
        status=status.value if status else None,
        overdue=overdue,
        case_id=case_id,
        assignee_id=assignee_id,
        limit=limit,
        cursor=cursor,
    )
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/follow-ups/{follow_up_id}",
    response_model=FollowUpRead,
    summary="One follow-up (with its ETag; 304 when If-None-Match names it)",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_follow_up(
    session: SessionDep, p: CasesRead, follow_up_id: str, response: Response
) -> object:
    fu = await service.read(session, p, follow_up_id)
    with_etag(response, etag(fu.version))
    return fu


@router.patch(
    "/follow-ups/{follow_up_id}",
    response_model=FollowUpRead,
    summary="Record a follow-up's outcome (done, missed or cancelled), or plan it again",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def update_follow_up(
    session: SessionDep,
    p: CasesWrite,
    follow_up_id: str,
    body: FollowUpUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    fu = await service.change(
        session, p, follow_up_id, if_match, body.model_dump(exclude_unset=True)
    )
    return _with_etag(response, fu)


@router.post(
    "/cases/{case_id}/feedback",
    response_model=FeedbackRead,
    status_code=201,
    summary="The referring clinician's feedback (201; 200 when it replaces theirs)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def give_feedback(
    session: SessionDep,
    p: CasesWrite,
    case: FullCase,
    body: FeedbackCreate,
    response: Response,
) -> object:
    fb, created = await service.give_feedback(session, p, case, body.model_dump())
    if not created:
        response.status_code = 200
    return fb
