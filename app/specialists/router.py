from typing import Annotated

from fastapi import Header, Query, Response

from app.core.deps import CurrentPrincipal, SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import make_router
from app.specialists import service
from app.specialists.schemas import ProfileWrite, SpecialistRead, Specialty

router = make_router(tags=["specialists"])

SpecialtyQuery = Annotated[
    str | None, Query(max_length=60, description="A code from GET /specialties")
]


@router.get(
    "/specialties",
    response_model=list[Specialty],
    summary="The specialty vocabulary (codes are lower snake case)",
    responses=problem_responses(401),
)
async def list_specialties(p: CurrentPrincipal) -> object:
    return service.list_specialties()


@router.get(
    "/specialists",
    response_model=Page[SpecialistRead],
    summary="The specialist directory",
    responses=problem_responses(401, 422),
)
async def list_specialists(
    session: SessionDep,
    p: CurrentPrincipal,
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
    responses=problem_responses(401, 422),
)
async def on_duty(
    session: SessionDep,
    p: CurrentPrincipal,
    specialty: SpecialtyQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.on_duty(session, p, specialty=specialty, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/specialists/{specialist_id}",
    response_model=SpecialistRead,
    summary="One specialist's profile",
    responses=problem_responses(401, 404),
)
async def get_specialist(
    session: SessionDep, p: CurrentPrincipal, specialist_id: str, response: Response
) -> object:
    data = await service.get(session, p, specialist_id)
    response.headers["ETag"] = service.etag(data["version"])
    return data


@router.put(
    "/specialists/{specialist_id}/profile",
    response_model=SpecialistRead,
    summary="Write a profile (the specialist's own, or any for a coordinator)",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def put_profile(
    session: SessionDep,
    p: CurrentPrincipal,
    specialist_id: str,
    body: ProfileWrite,
    response: Response,
    if_match: Annotated[str | None, Header(description="ETag from a read; 412 when stale")] = None,
) -> object:
    data = await service.put_profile(session, p, specialist_id, body.model_dump(), if_match)
    response.headers["ETag"] = service.etag(data["version"])
    return data
