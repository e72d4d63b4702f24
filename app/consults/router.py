"""The store-and-forward path of the consult room, and the live room itself."""

from typing import Annotated

from fastapi import Query, Response

from app.cases.dependencies import FullCaseSnapshot
from app.consults import service
from app.consults.room import serve_room
from app.consults.schemas import MessageCreate, MessageRead
from app.core.deps import CasesRead, CasesWrite, SessionDep
from app.core.errors import problem_responses
from app.core.pagination import MAX_SEQ, Cursor, Limit, Page
from app.core.routing import autocommit, make_router

router = make_router(tags=["consult sessions"])

AfterSeq = Annotated[int, Query(ge=0, le=MAX_SEQ, description="Only messages with a larger `seq`.")]


@router.get(
    "/cases/{case_id}/messages",
    response_model=Page[MessageRead],
    summary="The case's messages in `seq` order (catch up after a drop)",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_messages(
    session: SessionDep,
    p: CasesRead,
    case: FullCaseSnapshot,
    after_seq: AfterSeq = 0,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_messages(session, p, case, after_seq, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.post(
    "/cases/{case_id}/messages",
    response_model=MessageRead,
    status_code=201,
    summary="Send a message (a resend with the same client_msg_id returns it, 200)",
    responses={
        200: {"description": "Already stored: the same message again", "model": MessageRead},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def post_message(
    session: SessionDep,
    p: CasesWrite,
    case: FullCaseSnapshot,
    body: MessageCreate,
    response: Response,
) -> object:
    msg, created = await service.post_message(session, p, case, body.body, body.client_msg_id)
    if not created:
        response.status_code = 200
    return msg


# A plain Starlette route, not @router.websocket: FastAPI's socket route keeps its dependency
# machinery (exit stacks, a Response, the solved values) alive for the socket's whole life,
# (with the closure below in room.py, 4.5 kB per idle socket measured) for no dependency.
# `serve_room` reads the case id from the path; frames are documented in docs/consults.md.
# Starlette's method does not apply the router's prefix: the path is given whole.
router.add_websocket_route(f"{router.prefix}/ws/cases/{{case_id}}", serve_room, name="case_room")
