"""The route class every domain router uses: the unit of work, idempotent POSTs and strict
content types.

Every route runs inside one unit of work (app.core.db.unit_of_work): one session, opened
here rather than as a dependency, committed after the handler (and its dependencies'
exits: the Idempotency-Key record) and before the response leaves, rolled back before an
error is answered. `SessionDep` hands the route that session.
"""

import copy
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, get_args, get_origin

from fastapi import APIRouter, Request, Response, params
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

from app.core import conditional, idempotency
from app.core.db import unit_of_work
from app.core.errors import PreconditionFailed, PreconditionRequired, UnsupportedMediaType
from app.core.schemas import secret_fields


def _json_content_type(request: Request) -> bool:
    if not request.headers.get("content-type", "").split(";")[0].strip():
        # No type is taken as JSON only with no body to read (a POST with nothing to say):
        # a body without one was dropped unread, and answered as a missing body (422).
        return not _has_body(request)
    return idempotency.json_typed(request)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


def _encoded(request: Request) -> bool:
    """A body in a content coding (gzip...) that is not decoded here: read as it is, it was
    taken as plain text of another meaning, or refused as malformed JSON."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    return coding not in ("", "identity")


_AUTOCOMMIT = "_autocommit_unit_of_work"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def autocommit(endpoint: Endpoint) -> Endpoint:
    """Marks a route that reads: what it writes, if anything, is single statements that
    stand alone (its audit row). On PostgreSQL its unit of work runs in autocommit, without
    the BEGIN and COMMIT round trips (two of a simple read's four). Not for a route that
    writes rows that belong together or takes a transaction's lock (FOR UPDATE,
    core.db.take_turns): those keep the ordinary unit of work. Put it under the
    router's decorator."""
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError("autocommit marks an async route endpoint")
    setattr(endpoint, _AUTOCOMMIT, True)
    return endpoint


class AppRoute(APIRoute):
    # A query parameter the route does not read is refused (FHIR's search ignores them, as
    # FHIR servers do unless asked otherwise: app.fhir.routing).
    refuses_unknown_query = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any) -> None:
        methods = {m.upper() for m in (kw.get("methods") or ())}
        self.idempotent = "POST" in methods
        self.autocommit = bool(getattr(endpoint, _AUTOCOMMIT, False))
        if self.autocommit and not methods <= {"GET", "HEAD"}:
            raise TypeError(f"{path}: only a read (GET) runs in autocommit")
        # Each route its own copy: the schema's post-processing (app/openapi.py) adds to a
        # route's parameters, and a shared declaration (CONDITIONAL_READ) must not grow.
        kw["openapi_extra"] = copy.deepcopy(kw.get("openapi_extra"))
        super().__init__(path, endpoint, **kw)
        # Read by the Idempotency-Key guard: an answer with a secret is never stored, and
        # a body the endpoint reads itself (documented, but no body parameter: an upload)
        # is hashed on its way, never read whole before it (idempotency.body_stream).
        self.secret_fields = secret_fields(self.response_model)
        self.streams_body = not self.dependant.body_params and "requestBody" in (
            self.openapi_extra or {}
        )
        # The literal text before the first parameter: every path this route matches holds
        # it (a root path, if any, only comes before it).
        self.literal = self.path_format.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The router tries its ~150 routes in turn, each with FastAPI's context lookup and a
        # regular expression; a substring test turns nearly all of them away for less
        # (GET /organizations/{id}, 79th in the table: 395 → 356 µs in-process).
        if self.literal not in scope.get("path", ""):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        idempotent, autocommit = self.idempotent, self.autocommit
        body_params = self.dependant.body_params
        expects_json = bool(body_params) and not any(
            isinstance(p.field_info, (params.Form, params.File)) for p in body_params
        )

        scalars = _scalar_query_names(self.dependant)
        known: frozenset[str] | None = None
        reads = query_names(self.dependant)
        if self.refuses_unknown_query and not getattr(self.endpoint, _LENIENT_QUERY, False):
            paging = PAGING if "GET" in (self.methods or ()) else frozenset()
            known = reads | ALWAYS_TAKEN | paging
        # Conditional requests (app.core.conditional): a read that declares If-None-Match
        # answers 304 here, whatever its handler; a write's precondition is judged after
        # its body (a malformed body is 422 before any 412 or 428).
        conditional_read = "GET" in (self.methods or ()) and (
            conditional.declares_if_none_match(self.openapi_extra)
            or "if-none-match" in _header_names(self.dependant)
        )

        async def route_handler(request: Request) -> Response:
            _refuse_repeated(request, scalars)
            if known is not None:
                _refuse_unknown(request, known, reads)
            refuse_nul(request)
            if request.method in ("POST", "PUT", "PATCH"):
                if _encoded(request):
                    raise UnsupportedMediaType("Send the body uncompressed (no Content-Encoding).")
                if expects_json and not _json_content_type(request):
                    raise UnsupportedMediaType("Send the body as application/json.")
            try:
                async with unit_of_work(autocommit) as session:
                    request.state.session = session
                    if not idempotent:
                        response = await handler(request)
                    else:
                        async with idempotency.guard(request, session) as held:
                            response = await handler(request)
                            if held is not None:
                                await idempotency.finish(session, held, response)
                if conditional_read:
                    return conditional.answer_read(request, response)
                return response
            except (PreconditionFailed, PreconditionRequired):
                # A dependency (the resource it loads for a write) may judge If-Match before
                # FastAPI validates the body: the body's faults are told first.
                if expects_json:
                    await _validate_body(request, body_params)
                raise
            except HTTPException as e:
                # FastAPI's answer to a body it could not read as JSON at all (not UTF-8,
                # nested past the parser's depth): the same problem as any malformed body.
                if e.status_code == 400 and isinstance(
                    e.__cause__, (UnicodeDecodeError, RecursionError)
                ):
                    raise RequestValidationError(
                        [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}]
                    ) from e
                raise

        return route_handler


async def _validate_body(request: Request, body_params: list[Any]) -> None:
    """Raise the 422 FastAPI would give for this request's JSON body, if it has one."""
    raw = await request.body()
    try:
        received = await request.json() if raw else None
    except ValueError:
        return  # not JSON at all: FastAPI says so before any dependency runs
    embed = len(body_params) > 1 or bool(getattr(body_params[0].field_info, "embed", False))
    _, errors = await request_body_to_args(body_params, received, embed)
    if errors:
        raise RequestValidationError(errors)


def _header_names(dependant: Any) -> set[str]:
    """The headers a route reads, its dependencies' included."""
    names = {p.alias.lower() for p in dependant.header_params}
    for sub in dependant.dependencies:
        names |= _header_names(sub)
    return names


def _scalar_query_names(dependant: Any) -> frozenset[str]:
    return frozenset(
        f.alias for f in dependant.query_params if not _is_sequence(f.field_info.annotation)
    )


def _is_sequence(annotation: Any) -> bool:
    """list[str], tuple[...], set[...], or such inside Optional/Annotated/Union."""
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_sequence(a) for a in get_args(annotation) if a is not type(None))


def query_names(dependant: Any) -> frozenset[str]:
    """The query parameters a route reads, its dependencies' included."""
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return frozenset(names)


# A list client sends these to every list it reads (the console's `all`, a partner's
# paginator); a list short enough to come whole loses nothing by them.
PAGING = frozenset({"limit", "cursor"})
# A cache-buster (`?_=1700000000`) that HTTP libraries add to a GET: it asks for nothing.
ALWAYS_TAKEN = frozenset({"_"})
_LENIENT_QUERY = "_takes_any_query"


def lenient_query(endpoint: Endpoint) -> Endpoint:
    """Marks a route whose callers are tools with their own habits rather than partners'
    code (uptime probes, metric scrapers, calendar apps): a query parameter it does not
    read is ignored, not refused. Put it under the router's decorator."""
    setattr(endpoint, _LENIENT_QUERY, True)
    return endpoint


def _refuse_unknown(request: Request, known: frozenset[str], reads: frozenset[str]) -> None:
    """`GET /cases?stauts=closed` answered every case, as if the filter were applied: a
    parameter the route does not read is an error, as an unknown body field is."""
    unknown = {k for k in request.query_params if k not in known}
    if unknown:
        takes = ", ".join(sorted(reads)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "unknown_parameter",
                    "loc": ("query", n),
                    "msg": f"This route takes no such parameter (it takes: {takes}).",
                }
                for n in sorted(unknown)
            ]
        )


def _refuse_repeated(request: Request, scalars: frozenset[str]) -> None:
    """`?status=a&status=b` for a one-valued parameter is an error, not the last one silently."""
    qs = request.query_params
    repeated = [n for n in scalars if len(qs.getlist(n)) > 1]
    if repeated:
        raise RequestValidationError(
            [
                {"type": "repeated", "loc": ("query", n), "msg": "Give this parameter once."}
                for n in sorted(repeated)
            ]
        )


NUL_DETAIL = "Text may not contain NUL (U+0000)."


def refuse_nul(request: Request, form: Any = None, fields: frozenset[str] = frozenset()) -> None:
    """No text the route reads may hold U+0000: PostgreSQL cannot store it, and SQLite
    would; one answer (422) on both, before any work. (A form's fields it does not read
    are ignored, as FastAPI ignores them.)"""
    where = [
        *(("path", k, v) for k, v in request.path_params.items()),
        *(("query", k, v) for k, v in request.query_params.multi_items()),
        *(
            ("body", k, v)
            for k, v in (form.multi_items() if form is not None else ())
            if k in fields
        ),
    ]
    bad = [(src, k) for src, k, v in where if isinstance(v, str) and "\x00" in v]
    if bad:
        raise RequestValidationError(
            [{"type": "nul", "loc": (src, k), "msg": NUL_DETAIL} for src, k in bad]
        )


# Where the API is served; a router for the site's root (probes, console pages, what a
# standard puts at /.well-known) passes `prefix=""`.
API_PREFIX = "/api/v1"


def operation_id(route: APIRoute) -> str:
    """The operationId: the endpoint function's name. It survives a path or method change,
    and tests/test_openapi.py checks it is unique."""
    return route.name


def make_router(
    *, prefix: str = API_PREFIX, route_class: type[AppRoute] = AppRoute, **kw: Any
) -> APIRouter:
    """A domain's router. Its routes are made with their whole path, and the app serves
    them as they are (`FastAPI(routes=...)`, app/main.py) rather than through
    `include_router`: FastAPI walks an included router's routes to find a match, then walks
    them again to hand the request on, so a route late in a tree of included routers cost a
    simple read a third of its time (measured with `bench/`'s `--profile`)."""
    return APIRouter(
        prefix=prefix, route_class=route_class, generate_unique_id_function=operation_id, **kw
    )


class RouteIndex(BaseRoute):
    """The route table looked up by the first three segments of a path, ahead of the table.

    The router tries the table's ~160 routes in turn: ~0.6 µs for each route turned away,
    30-80 µs for a read whose route sits 30th to 80th (measured: a note, the facility list,
    an offer's accept), a tenth of such a read. For every three-segment beginning that
    some route spells out in full (`/api/v1/notes`), this keeps the routes that could take
    such a path, in the table's order, and tries only those: the route it finds is the one
    the walk would find. A path it holds no list for, or that none of its routes take in
    full (another method, a trailing slash), is left to the walk that follows, so 404s,
    405s and redirects stay the router's own.
    """

    DEPTH = 3

    def __init__(self, table: list[BaseRoute]) -> None:
        placed = [(route, *_route_key(route)) for route in table]
        keys = {key for _, key, whole in placed if whole}
        self.lists: dict[tuple[str, ...], tuple[BaseRoute, ...]] = {
            key: tuple(route for route, begins, whole in placed if _may_take(begins, whole, key))
            for key in keys
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Behind a root path (`--root-path`, a mount) the routes see the path without it:
        # left to the walk, which knows how to take it off.
        if scope["type"] not in ("http", "websocket") or scope.get("root_path"):
            return Match.NONE, {}
        found = self.lists.get(tuple(scope["path"].split("/")[1 : self.DEPTH + 1]))
        for route in found or ():
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, _CHOSEN: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope.pop(_CHOSEN).handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        # Not a route of its own: the router asks the routes after it.
        raise NoMatchFound(name, path_params)


_CHOSEN = "app.route_index.chosen"


def _may_take(begins: tuple[str, ...], whole: bool, key: tuple[str, ...]) -> bool:
    if whole:
        return begins == key
    n = min(len(begins), len(key))  # a shorter beginning, or a mount's longer path
    return key[:n] == begins[:n]


def _route_key(route: BaseRoute) -> tuple[tuple[str, ...], bool]:
    """The segments a path must begin with for this route to take it, and whether they
    are its first DEPTH segments spelled out (else: a beginning shorter than that)."""
    if isinstance(route, Mount):  # a mount takes whatever lies under its path
        return tuple(route.path.split("/")[1:]) if route.path else (), False
    path = getattr(route, "path_format", None)
    if path is None:  # a route of another kind (a host): it may take any path
        return (), False
    head, brace, _ = path.partition("{")
    segments = head.split("/")[1:]
    if brace:
        segments = segments[:-1]  # the last piece runs into the parameter
        if len(segments) < RouteIndex.DEPTH:
            return tuple(segments), False
    return tuple(segments[: RouteIndex.DEPTH]), True
