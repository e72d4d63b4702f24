from typing import Annotated, Literal

from fastapi import Form, Request, Response, Security, status
from fastapi.security import HTTPBasic

from app.auth import api_clients, introspection, service, sessions
from app.auth.oauth import NO_STORE, OAuthRoute, client_credentials, metadata
from app.auth.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientMe,
    ApiClientRead,
    ApiClientUpdate,
    Introspection,
    PasswordChange,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.core.conditional import CONDITIONAL_READ
from app.core.deps import (
    AdminPrincipal,
    CasesRead,
    CurrentPrincipal,
    OptionalPrincipal,
    SessionDep,
    UserPrincipal,
    client_ip,
)
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.principal import Role
from app.core.routing import autocommit, lenient_query, make_router
from app.core.schemas import form_example

router = make_router(tags=["auth"])
oauth = make_router(route_class=OAuthRoute, tags=["auth"])
# At the root, where RFC 8414 clients look for it (app/api.py mounts `root` routers there).
root = make_router(prefix="", tags=["auth"])


@root.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2 authorization server metadata (RFC 8414)",
)
@lenient_query
async def authorization_server_metadata(request: Request) -> dict[str, object]:
    return metadata(str(request.base_url).rstrip("/"))


# HTTP Basic is documented (client_secret_basic); the header itself is read by
# oauth.client_credentials, which also unquotes it as RFC 6749 §2.3.1 says.
_basic = HTTPBasic(auto_error=False, description="client_secret_basic: client_id:client_secret")


@oauth.post(
    "/auth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="OAuth 2 token endpoint (password, client_credentials, refresh_token)",
    description=(
        "RFC 6749. Errors carry `error` (`invalid_request`, `invalid_client`, `invalid_grant`,"
        " `invalid_scope`, `unsupported_grant_type`) beside the problem+json members. A client"
        " authenticates with HTTP Basic (client_secret_basic) or the form (client_secret_post)."
    ),
    responses={
        200: {"headers": {"Cache-Control": {"schema": {"type": "string", "example": "no-store"}}}},
        **problem_responses(400, 401, 429),
    },
    dependencies=[Security(_basic)],
    openapi_extra=form_example(
        {
            "grant_type": "client_credentials",
            "client_id": "ci_7KQ2M9",
            "client_secret": "cs_the-secret-shown-once",
            "scope": "cases:read cases:write",
        }
    ),
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    grant_type: Annotated[Literal["password", "client_credentials", "refresh_token"], Form()],
    username: Annotated[str | None, Form(max_length=254)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=200)] = None,
    refresh_token: Annotated[str | None, Form(max_length=2000)] = None,
) -> dict[str, object]:
    # Only a client_credentials grant authenticates a client; a password grant's client
    # (Basic from a library configured with one) is not ours to check.
    credentials = (
        client_credentials(request, client_id, client_secret)
        if grant_type == "client_credentials"
        else None
    )
    response.headers.update(NO_STORE)
    return await service.issue_token(
        session,
        grant_type,
        credentials=credentials,
        username=username,
        password=password,
        scope=scope,
        refresh_token=refresh_token,
        ip=client_ip(request),
    )


@oauth.post(
    "/auth/revoke",
    status_code=status.HTTP_200_OK,
    summary="Revoke a token (RFC 7009)",
    responses=problem_responses(400),
    openapi_extra=form_example({"token": "rt_the-refresh-token-to-end"}),
)
async def revoke(
    session: SessionDep, token: Annotated[str, Form(min_length=1, max_length=2000)]
) -> dict[str, str]:
    await sessions.revoke(session, token)
    return {"status": "revoked"}


@oauth.post(
    "/auth/introspect",
    response_model=Introspection,
    response_model_exclude_none=True,
    summary="Is this token active? (RFC 7662, for a partner's resource server)",
    description=(
        "The caller is an API client (HTTP Basic, client_id/client_secret in the form, or its"
        " bearer token) or an admin. A client learns about its own tokens and its facility's"
        " users' tokens; any other token, and any token that is not live, is"
        ' `{"active": false}`.'
    ),
    responses={
        200: {"headers": {"Cache-Control": {"schema": {"type": "string", "example": "no-store"}}}},
        **problem_responses(400, 401, 403),
    },
    dependencies=[Security(_basic)],
    openapi_extra=form_example(
        {
            "token": "eyJhbGciOiJIUzI1NiJ9.the-access-token.a-signature",
            "token_type_hint": "access_token",
            "client_id": "ci_7KQ2M9",
            "client_secret": "cs_the-secret-shown-once",
        }
    ),
)
async def introspect(
    request: Request,
    session: SessionDep,
    bearer: OptionalPrincipal,
    token: Annotated[str, Form(min_length=1, max_length=4000)],
    token_type_hint: Annotated[
        str | None,
        Form(
            max_length=40,
            description="`access_token` or `refresh_token`: which kind to try first.",
        ),
    ] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
) -> dict[str, object]:
    credentials = client_credentials(request, client_id, client_secret)
    return await introspection.introspect(session, credentials, bearer, token, token_type_hint)


@router.get(
    "/me",
    response_model=UserRead | ApiClientMe,
    summary="The signed-in user, or the API client whose token this is",
    responses=problem_responses(401),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def me(session: SessionDep, p: CurrentPrincipal) -> object:
    return await service.describe_caller(session, p)


@router.post(
    "/me/password",
    status_code=204,
    summary="Change your own password (every session you had ends)",
    responses=problem_responses(401, 403, 422, 429),
)
async def change_password(session: SessionDep, p: UserPrincipal, body: PasswordChange) -> None:
    await service.change_password(session, p, body.current_password, body.new_password)


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
@autocommit
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
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
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
    client, secret = await api_clients.create_api_client(session, p, body.model_dump())
    return {**ApiClientRead.model_validate(client).model_dump(), "client_secret": secret}


@clients.patch(
    "/api-clients/{client_id}",
    response_model=ApiClientRead,
    summary="Switch a partner app off (its tokens refused at once) or on again",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_api_client(
    session: SessionDep, p: AdminPrincipal, client_id: str, body: ApiClientUpdate
) -> object:
    return await api_clients.set_active(session, p, client_id, body.active)


@clients.post(
    "/api-clients/{client_id}/rotate-secret",
    response_model=ApiClientCreated,
    summary="Give a partner app a new secret (shown once): the old one and its tokens refused",
    responses=problem_responses(401, 403, 404, 409),
)
async def rotate_api_client_secret(
    session: SessionDep, p: AdminPrincipal, client_id: str
) -> object:
    client, secret = await api_clients.rotate_secret(session, p, client_id)
    return {**ApiClientRead.model_validate(client).model_dump(), "client_secret": secret}


@clients.get(
    "/api-clients",
    response_model=Page[ApiClientRead],
    summary="List API clients",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_api_clients(
    session: SessionDep, p: AdminPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    items, nxt = await api_clients.list_api_clients(session, limit, cursor)
    return {"items": items, "next_cursor": nxt}
