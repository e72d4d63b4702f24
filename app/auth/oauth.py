"""OAuth 2 as its clients expect it: RFC 6749 errors, client authentication, RFC 8414 metadata.

Errors keep the service's one shape (RFC 9457 problem+json, with `type`, `title`, ...)
and add RFC 6749's `error` and `error_description` members, so an OAuth library tells
`invalid_grant` from `invalid_client` while a problem+json reader sees what it always sees.
"""

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from app.core.errors import AppError
from app.core.principal import Scope
from app.core.routing import AppRoute, refuse_nul

GRANT_TYPES = ("password", "client_credentials", "refresh_token")
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# Every answer that carries a token (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="consult"'


class OAuthError(AppError):
    """An error of the OAuth endpoints, carrying RFC 6749's `error` code."""

    error = "invalid_request"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.extra = {"error": self.error, "error_description": self.detail, **self.extra}
        self.headers = {**NO_STORE, **self.headers}


class InvalidRequest(OAuthError):
    """A parameter is missing, repeated or malformed (OAuth2 invalid_request)."""

    status, code, title, error = 400, "invalid-request", "Invalid request", "invalid_request"


class InvalidGrant(OAuthError):
    """The credentials or the grant are not valid (OAuth2 invalid_grant)."""

    status, code, title, error = 400, "invalid-grant", "Invalid grant", "invalid_grant"


class InvalidClient(OAuthError):
    """Unknown client or wrong secret (OAuth2 invalid_client)."""

    status, code, title, error = 401, "invalid-client", "Invalid client", "invalid_client"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        # RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
        kw.setdefault("headers", {"WWW-Authenticate": BASIC_CHALLENGE})
        super().__init__(detail, **kw)


class InvalidScope(OAuthError):
    """A requested scope was not granted to this client (OAuth2 invalid_scope)."""

    status, code, title, error = 400, "invalid-scope", "Invalid scope", "invalid_scope"


class UnsupportedGrantType(OAuthError):
    """The grant type is not one this server issues tokens for."""

    status, code, title = 400, "unsupported-grant-type", "Unsupported grant type"
    error = "unsupported_grant_type"


def client_credentials(
    request: Request, form_id: str | None, form_secret: str | None
) -> tuple[str, str] | None:
    """The client's id and secret from HTTP Basic (client_secret_basic) or the form
    (client_secret_post); None when the request carries neither. Both at once is refused
    (RFC 6749 §2.3: one method per request)."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic" and value.strip():
        if form_id and form_secret:
            raise InvalidRequest("Send the client's credentials one way: Basic or the form.")
        try:
            raw = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise InvalidClient("The Basic credentials are not valid base64.") from e
        cid, sep, secret = raw.partition(":")
        if not sep:
            raise InvalidClient("The Basic credentials lack a ':'.")
        # RFC 6749 §2.3.1: each part is form-urlencoded before it is joined.
        cid, secret = unquote_plus(cid), unquote_plus(secret)
        if form_id and form_id != cid:
            raise InvalidRequest("client_id differs from the Basic credentials.")
        return cid, secret
    if form_id or form_secret:
        if not form_id or not form_secret:
            raise InvalidClient("client_id and client_secret are required.")
        return form_id, form_secret
    return None


class OAuthRoute(AppRoute):
    """A route of the OAuth endpoints: a form it cannot read is 400 `invalid_request`
    (`unsupported_grant_type` for a grant it does not know), never 422. A query parameter
    it does not know is ignored, as RFC 6749 (3.1, 3.2) asks of a token endpoint."""

    refuses_unknown_query = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fields = frozenset(p.alias for p in self.dependant.body_params)

        async def oauth_handler(request: Request) -> Response:
            try:
                refuse_nul(request, await request.form(), fields)
                return await handler(request)
            except RequestValidationError as e:
                raise _as_oauth_error(e, request.headers.get("content-type", "")) from e

        return oauth_handler


def _as_oauth_error(e: RequestValidationError, content_type: str = "") -> OAuthError:
    errors = [
        {"pointer": "/" + "/".join(str(p) for p in err.get("loc", ())[1:]), "detail": err["msg"]}
        for err in e.errors()
    ]
    for err in e.errors():
        if tuple(err.get("loc", ())) == ("body", "grant_type") and err.get("type") != "missing":
            return UnsupportedGrantType(
                f"grant_type must be one of {', '.join(GRANT_TYPES)}.", errors=errors
            )
    detail = "The form lacks a required parameter or has a bad one."
    if "json" in content_type.lower():  # what an integrator used to REST sends first
        detail += " The token endpoint takes a form (application/x-www-form-urlencoded)."
    return InvalidRequest(detail, errors=errors)


def metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata: where the endpoints are and what they take."""
    api = f"{base_url}/api/v1"
    return {
        "issuer": base_url,
        "token_endpoint": f"{api}/auth/token",
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "grant_types_supported": list(GRANT_TYPES),
        "scopes_supported": [s.value for s in Scope],
        # No authorization endpoint: tokens come only from the token endpoint's grants.
        "response_types_supported": [],
        "revocation_endpoint": f"{api}/auth/revoke",
        "revocation_endpoint_auth_methods_supported": ["none", *CLIENT_AUTH_METHODS],
        "introspection_endpoint": f"{api}/auth/introspect",
        "introspection_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "bearer"],
        "service_documentation": f"{base_url}/docs",
    }
