"""Domain errors and their one rendering: RFC 9457 application/problem+json."""

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.observability import current_request_id

PROBLEM = "application/problem+json"
TYPE_BASE = "https://consult.example.org/problems/"


class AppError(Exception):
    """Base of every error the service reports to a caller."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        if "code" in extra:
            self.code = str(extra.pop("code"))
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class BadRequest(AppError):
    """The request is malformed."""


REALM = "consult"


def bearer_challenge(error: str | None = None, **params: str) -> str:
    """RFC 6750 §3: `Bearer realm="consult"`, with `error="invalid_token"` when a token was
    sent and refused, `error="insufficient_scope", scope="..."` when it lacks a scope."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    parts += [f'{k}="{v}"' for k, v in params.items()]
    return "Bearer " + ", ".join(parts)


class Unauthorized(AppError):
    """No valid credentials."""

    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": bearer_challenge()})
        super().__init__(detail, **kw)


class InvalidAccessToken(Unauthorized):
    """A bearer token was sent and is not valid: malformed, expired, revoked, or its
    subject is gone (RFC 6750 `invalid_token`)."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault(
            "headers",
            {"WWW-Authenticate": bearer_challenge("invalid_token", error_description=detail or "")},
        )
        super().__init__(detail, **kw)


class Forbidden(AppError):
    """Authenticated, but this role may not take this action."""

    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    """No such object, or the caller may not see it."""

    status, code, title = 404, "not-found", "Not found"


class Conflict(AppError):
    """The object's state does not allow this."""

    status, code, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    """The lifecycle state machine forbids this transition."""

    code, title = "invalid-transition", "Illegal state transition"


class PreconditionFailed(AppError):
    """If-Match does not match the current version."""

    status, code, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(AppError):
    """The change needs If-Match."""

    status, code, title = 428, "precondition-required", "Precondition required"


class PayloadTooLarge(AppError):
    """The body is larger than allowed."""

    status, code, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(AppError):
    """The content type is not accepted here."""

    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(AppError):
    """A field is well-formed but not acceptable."""

    status, code, title = 422, "validation-error", "Validation failed"


class RateLimited(AppError):
    """Too many attempts."""

    status, code, title = 429, "rate-limited", "Too many requests"


class ProblemError(BaseModel):
    pointer: str
    detail: str
    code: str | None = Field(
        default=None,
        description="Why, for programs (a validation failure's kind: `missing`, "
        "`string_too_long`, `less_than_equal`...), so a client can say it in its own words.",
    )
    limit: float | None = Field(
        default=None, description="The bound a value broke (a length, a number), when there is one."
    )


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = None
    request_id: str | None = Field(
        default=None, description="The X-Request-ID of the request; quote it when asking for help."
    )


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    rid = current_request_id()
    if rid:
        body["request_id"] = rid
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


# The bound each kind of validation failure names in its context, when it has one.
_LIMITS = ("max_length", "min_length", "le", "ge", "lt", "gt")


def _field_error(e: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pointer": _pointer(tuple(e.get("loc", ()))),
        "detail": str(e.get("msg")),
        "code": str(e.get("type")),
    }
    ctx = e.get("ctx") or {}
    bound = next((ctx[k] for k in _LIMITS if isinstance(ctx.get(k), int | float)), None)
    if bound is not None:
        out["limit"] = bound
    return out


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if where != "body":
            return f"#{where}/" + "/".join(str(p) for p in parts)
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status == 304:  # not an error: the caller's copy is current; a 304 has no body
        return Response(status_code=304, headers=exc.headers)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        return problem_response(
            400,
            "malformed-body",
            "Malformed body",
            "The body is not valid JSON.",
            instance=request.url.path,
        )
    pointers = [_field_error(e) for e in errs]
    return problem_response(
        422,
        "validation-error",
        "Validation failed",
        f"{len(pointers)} field(s) are invalid.",
        instance=request.url.path,
        errors=pointers,
    )


_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's own 405 names only the
    first route that matched the path, though GET and POST /cases are two routes."""
    from fastapi.routing import iter_route_contexts

    path = request.url.path
    methods: set[str] = set()
    for rc in iter_route_contexts(request.app.routes):
        regex = getattr(rc, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(rc, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=headers,
    )


log = logging.getLogger("app.errors")


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    """The exception's message may carry patient data (a driver error quotes the row's
    values): log its type and where it was raised, never its text or the request body."""
    log.error(
        "unhandled %s on %s %s\n%s",
        type(exc).__name__,
        method,
        path,
        "".join(traceback.format_tb(exc.__traceback__)),
    )


def internal_error(path: str) -> JSONResponse:
    return problem_response(
        500,
        "internal",
        "Internal error",
        "Something went wrong; it has been logged.",
        instance=path,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log_unexpected(request.method, request.url.path, exc)
    return internal_error(request.url.path)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A constraint the service did not check first (two requests racing past a uniqueness
    # check, say). The driver's message quotes the row, so it is neither shown nor logged.
    log.warning("integrity error on %s %s", request.method, request.url.path)
    return problem_response(
        409,
        "conflict",
        "Conflict",
        "The change conflicts with existing data.",
        instance=request.url.path,
    )


# The database out of reach (a failover, a cut link, a restart, every pooled connection
# busy): the request may simply be retried, so 503 with Retry-After rather than 500. Its
# transaction rolled back; a commit that lost its connection midway is the one unknown,
# which an Idempotency-Key on the retry settles.
RETRY_AFTER_SECONDS = 5


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what the driver raised under it (`orig`) and its causes."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < 10:
        e = todo.pop()
        if any(e is f for f in found):
            continue
        found.append(e)
        todo += [
            x
            for x in (getattr(e, "orig", None), e.__cause__, e.__context__)
            if isinstance(x, BaseException)
        ]
    return found


def database_unreachable(exc: BaseException) -> bool:
    import sqlite3

    import asyncpg
    from sqlalchemy import exc as sa

    lost = (
        ConnectionError,  # refused, reset, broken pipe
        TimeoutError,  # connecting took too long
        sa.TimeoutError,  # no pooled connection came free in time
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,  # starting up or shutting down
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.ConnectionDoesNotExistError,
    )
    for e in _chain(exc):
        if isinstance(e, lost):
            return True
        if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            return True  # another process held SQLite's write lock past the busy timeout
    return False


def database_unavailable_response(path: str) -> JSONResponse:
    return problem_response(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database cannot be reached just now; nothing was changed. Retry shortly.",
        instance=path,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _maybe_unreachable(request: Request, exc: Exception) -> JSONResponse:
    if not database_unreachable(exc):
        return await _database_error(request, exc)  # a value it cannot store, or a 500
    log.warning(
        "database unreachable on %s %s (%s)", request.method, request.url.path, type(exc).__name__
    )
    return database_unavailable_response(request.url.path)


def _is_data_exception(exc: BaseException) -> bool:
    """SQLSTATE class 22 (a value out of range, text with a NUL): the request's input, not
    our fault, wherever a schema let it through (form fields)."""
    for e in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        if str(getattr(e, "sqlstate", "") or "").startswith("22"):
            return True
    orig = getattr(exc, "orig", None)
    return str(getattr(getattr(orig, "__cause__", None), "sqlstate", "") or "").startswith("22")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not _is_data_exception(exc):
        return await _unexpected(request, exc)
    log.warning("data exception on %s %s", request.method, request.url.path)
    return problem_response(
        422,
        "unstorable-value",
        "Value cannot be stored",
        "A value in the request is out of range or holds a character text cannot.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    import sqlite3

    import asyncpg
    from sqlalchemy.exc import IntegrityError

    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(asyncpg.DataError, _database_error)
    # The same, raised by the drivers themselves (fast statements: app.core.queries).
    app.add_exception_handler(sqlite3.IntegrityError, _integrity_error)
    app.add_exception_handler(asyncpg.IntegrityConstraintViolationError, _integrity_error)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    from sqlalchemy import exc as sa

    for cls in (sa.DBAPIError, sa.TimeoutError, OSError, asyncpg.PostgresError, sqlite3.Error):
        app.add_exception_handler(cls, _maybe_unreachable)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can give, all in the problem+json shape."""
    return {
        s: {
            "model": Problem,
            "content": {PROBLEM: {}},
            "description": _HTTP_CODES.get(
                s,
                (
                    None,
                    {
                        409: "Conflict",
                        412: "Precondition failed",
                        422: "Validation failed",
                        428: "Precondition required",
                        429: "Rate limited",
                    }.get(s, "Error"),
                ),
            )[1],
        }
        for s in statuses
    }
