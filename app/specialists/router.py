from typing import Annotated

from fastapi import Query, Response

from app.core.conditional import CONDITIONAL_READ, IfMatch, with_etag
from app.core.deps import CasesRead, CurrentPrincipal, SessionDep, UserPrincipal
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.specialists import service
from app.specialists.schemas import ProfileWrite, SpecialistRead, Specialty
from app.specialists.vocabulary import SPECIALTY_SCHEMA

router = make_router(tags=["specialists"])

SpecialtyQuery = Annotated[
    str | None,
    Query(
        max_length=60,
        description="A code from GET /specialties",
        json_schema_extra={"enum": SPECIALTY_SCHEMA["enum"]},
    ),
]


@router.get(
    "/specialties",
    response_model=list[Specialty],
    summary="The specialty vocabulary (codes are lower snake case), each with how many "
    "specialists take its cases",
    responses=problem_responses(401),
)
@autocommit
async def list_specialties(session: SessionDep, p: CurrentPrincipal) -> object:
    return await service.list_specialties(session)


@router.get(
    "/specialists",
    response_model=Page[SpecialistRead],
    summary="The specialist directory",
    responses=problem_responses(401, 403, 422),
)
@autocommit
async def list_specialists(
    session: SessionDep,
    p: CasesRead,
    specialty: SpecialtyQuery = None,
    language: Annotated[str | None, Query(max_length=35, description="BCP 47 tag")] = None,
    accepting: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_(
        session,
        p,
        specialty=specialty,
        language=language,
        accepting=accepting,
        limit=limit,
        cursor=cursor,
    )
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/specialists/on-duty",
    response_model=Page[SpecialistRead],
    summary="Who can be reached right now: inside a weekly window in their own zone, "
    "not on time off, under capacity",
    responses=problem_responses(401, 403, 422),
)
@autocommit
async def on_duty(
    session: SessionDep,
    p: CasesRead,
    specialty: SpecialtyQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.on_duty(session, p, specialty=specialty, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/specialists/{specialist_id}",
    response_model=SpecialistRead,
    summary="One specialist's profile (ETag; 304 for If-None-Match with the current one)",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_specialist(
    session: SessionDep, p: CasesRead, specialist_id: str, response: Response
) -> object:
    data = await service.get(session, p, specialist_id)
    with_etag(response, service.profile_etag(data))
    return data


@router.put(
    "/specialists/{specialist_id}/profile",
    response_model=SpecialistRead,
    summary="Write a profile (the specialist's own, or any for a coordinator)",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def put_profile(
    session: SessionDep,
    p: UserPrincipal,
    specialist_id: str,
    body: ProfileWrite,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    data = await service.put_profile(session, p, specialist_id, body.model_dump(), if_match)
    response.headers["ETag"] = service.profile_etag(data)
    return data
