from fastapi import Response

from app.core.conditional import CONDITIONAL_READ, IfMatch, etag, with_etag
from app.core.deps import CasesRead, CurrentPrincipal, SessionDep, StaffPrincipal
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.organizations import service
from app.organizations.schemas import OrganizationCreate, OrganizationRead, OrganizationUpdate

router = make_router(tags=["organizations"])


@router.post(
    "/organizations",
    response_model=OrganizationRead,
    status_code=201,
    summary="Register a facility (409 when one of the same name is in the same country)",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_organization(
    session: SessionDep, p: StaffPrincipal, body: OrganizationCreate
) -> object:
    return await service.create(session, p, body.model_dump())


@router.get(
    "/organizations",
    response_model=Page[OrganizationRead],
    summary="List facilities you may see",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_organizations(
    session: SessionDep,
    p: CasesRead,
    limit: Limit = 50,
    cursor: Cursor = None,
    country: str | None = None,
) -> object:
    items, nxt = await service.list_(session, p, limit, cursor, country)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/organizations/{organization_id}",
    response_model=OrganizationRead,
    summary="One facility (with its ETag; 304 when If-None-Match names it)",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_organization(
    session: SessionDep, p: CasesRead, organization_id: str, response: Response
) -> object:
    org = await service.read(session, p, organization_id)
    with_etag(response, etag(org["version"]))
    return org


@router.patch(
    "/organizations/{organization_id}",
    response_model=OrganizationRead,
    summary="Update a facility (its own clinicians keep local_resources current; If-Match "
    "honoured when sent)",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def update_organization(
    session: SessionDep,
    p: CurrentPrincipal,
    organization_id: str,
    body: OrganizationUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    org = await service.update(
        session, p, organization_id, if_match, body.model_dump(exclude_unset=True)
    )
    with_etag(response, etag(org.version))
    return org
