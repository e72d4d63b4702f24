from typing import Annotated, Literal

from fastapi import Form, Request, status

from app.auth import service
from app.auth.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.core.deps import (
    AdminPrincipal,
    CasesRead,
    CurrentPrincipal,
    SessionDep,
    UserPrincipal,
    client_ip,
)
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.principal import Role
from app.core.routing import make_router

router = make_router(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="OAuth2 token endpoint (password, client_credentials, refresh_token)",
    responses=problem_responses(400, 401, 422, 429),
)
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[Literal["password", "client_credentials", "refresh_token"], Form()],
    username: Annotated[str | None, Form(max_length=254)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=200)] = None,
    refresh_token: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict[str, object]:
    if grant_type == "password":
        if not username or not password:
            raise service.InvalidGrant("username and password are required.")
        return await service.password_grant(session, username, password, client_ip(request))
    if grant_type == "client_credentials":
        if not client_id or not client_secret:
            raise service.InvalidClient("client_id and client_secret are required.")
        return await service.client_credentials_grant(session, client_id, client_secret, scope)
    if not refresh_token:
        raise service.InvalidGrant("refresh_token is required.")
    return await service.refresh_grant(session, refresh_token)


@router.post(
    "/auth/revoke",
    status_code=status.HTTP_200_OK,
    summary="Revoke a token (RFC 7009)",
    responses=problem_responses(422),
)
async def revoke(
    session: SessionDep, token: Annotated[str, Form(max_length=2000)]
) -> dict[str, str]:
    await service.revoke(session, token)
    return {"status": "revoked"}


@router.get(
    "/me", response_model=UserRead, summary="The signed-in user", responses=problem_responses(401)
)
async def me(session: SessionDep, p: CurrentPrincipal) -> object:
    return await service.get_user(session, p, p.id)


users = make_router(tags=["users"])


@users.post(
    "/users",
    response_model=UserRead,
    status_code=201,
    summary="Create a user",
    responses=problem_responses(401, 403, 422),
)
async def create_user(session: SessionDep, p: UserPrincipal, body: UserCreate) -> object:
    return await service.create_user(session, p, body.model_dump())


@users.get(
    "/users",
    response_model=Page[UserRead],
    summary="List users you may see",
    responses=problem_responses(401, 403),
)
async def list_users(
    session: SessionDep,
    p: CasesRead,
    limit: Limit = 50,
    cursor: Cursor = None,
    role: Role | None = None,
    organization_id: str | None = None,
) -> object:
    items, nxt = await service.list_users(session, p, limit, cursor, role, organization_id)
    return {"items": items, "next_cursor": nxt}


@users.get(
    "/users/{user_id}",
    response_model=UserRead,
    summary="One user",
    responses=problem_responses(401, 403, 404),
)
async def get_user(session: SessionDep, p: CasesRead, user_id: str) -> object:
    return await service.get_user(session, p, user_id)


@users.patch(
    "/users/{user_id}",
    response_model=UserRead,
    summary="Change a user",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_user(
    session: SessionDep, p: CurrentPrincipal, user_id: str, body: UserUpdate
) -> object:
    return await service.update_user(session, p, user_id, body.model_dump(exclude_unset=True))


clients = make_router(tags=["api clients"])


@clients.post(
    "/api-clients",
    response_model=ApiClientCreated,
    status_code=201,
    summary="Register a partner app (the secret is shown once)",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_api_client(
    session: SessionDep, p: AdminPrincipal, body: ApiClientCreate
) -> object:
    client, secret = await service.create_api_client(session, p, body.model_dump())
    return {**ApiClientRead.model_validate(client).model_dump(), "client_secret": secret}


@clients.get(
    "/api-clients",
    response_model=Page[ApiClientRead],
    summary="List API clients",
    responses=problem_responses(401, 403),
)
async def list_api_clients(
    session: SessionDep, p: AdminPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    items, nxt = await service.list_api_clients(session, limit, cursor)
    return {"items": items, "next_cursor": nxt}
