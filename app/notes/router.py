from fastapi import Response

from app.cases.dependencies import FullCase, FullCaseSnapshot
from app.core.conditional import CONDITIONAL_READ, IfMatch, with_etag
from app.core.deps import CasesRead, CasesWrite, SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.notes import service
from app.notes.models import Note, NoteStatus
from app.notes.schemas import NoteCreate, NoteRead, NoteUpdate, NoteVersionRead

router = make_router(tags=["notes"])


def _with_etag(response: Response, note: Note) -> Note:
    response.headers["ETag"] = service.note_tag(note.version, note.acknowledged_at)
    return note


@router.post(
    "/cases/{case_id}/notes",
    response_model=NoteRead,
    status_code=201,
    summary="Start a note on a case (a draft, by the case's specialist)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_note(
    session: SessionDep, p: CasesWrite, case: FullCase, body: NoteCreate, response: Response
) -> object:
    note = await service.create(session, p, case, body.model_dump())
    response.headers["Location"] = f"/api/v1/notes/{note.id}"
    return _with_etag(response, note)


@router.get(
    "/cases/{case_id}/notes",
    response_model=Page[NoteRead],
    summary="The case's notes, oldest first, drafts too (`status` to choose)",
    responses=problem_responses(400, 401, 403, 404, 422),
)
@autocommit
async def list_notes(
    session: SessionDep,
    p: CasesRead,
    case: FullCaseSnapshot,
    status: NoteStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_for_case(session, p, case, status, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/notes/{note_id}",
    response_model=NoteRead,
    summary="One note (with its ETag; 304 when If-None-Match names it)",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_note(session: SessionDep, p: CasesRead, note_id: str, response: Response) -> object:
    note = await service.read(session, p, note_id)
    with_etag(response, service.note_tag(note["version"], note["acknowledged_at"]))
    return note


@router.patch(
    "/notes/{note_id}",
    response_model=NoteRead,
    summary="Change a draft note (If-Match required; each change is a new version)",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_note(
    session: SessionDep,
    p: CasesWrite,
    note_id: str,
    body: NoteUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    note = await service.change(session, p, note_id, if_match, body.model_dump(exclude_unset=True))
    return _with_etag(response, note)


@router.get(
    "/notes/{note_id}/versions",
    response_model=Page[NoteVersionRead],
    summary="Every saved version of a note, oldest first, with author and time",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_note_versions(
    session: SessionDep, p: CasesRead, note_id: str, limit: Limit = 50, cursor: Cursor = None
) -> object:
    items, nxt = await service.versions(session, p, note_id, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.post(
    "/notes/{note_id}/sign",
    response_model=NoteRead,
    status_code=200,
    summary="Sign a note: it becomes final; a signed consult note answers the case",
    description="A note is signed only when it says something to act on: a consult note "
    "needs an `assessment` and `recommendations`, a progress note or an addendum at least "
    "one field (text of spaces only is blank). Otherwise 422 `note-incomplete`, each field "
    "in `errors` with `code` `required_to_sign` (consult) or `one_required_to_sign`; "
    "nothing changes.",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def sign_note(
    session: SessionDep,
    p: CasesWrite,
    note_id: str,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    return _with_etag(response, await service.sign(session, p, note_id, if_match))


@router.post(
    "/notes/{note_id}/acknowledge",
    response_model=NoteRead,
    status_code=200,
    summary="The referring facility confirms it has read a signed note",
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def acknowledge_note(
    session: SessionDep,
    p: CasesWrite,
    note_id: str,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    return _with_etag(response, await service.acknowledge(session, p, note_id, if_match))
