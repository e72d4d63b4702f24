"""The FHIR router's route class and shared pieces: every answer is application/fhir+json,
and every error under /fhir is rendered here, once, as an OperationOutcome (the rest of the
API answers problem+json). Each route is still an AppRoute: the one unit of work."""

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.core.errors import (
    RETRY_AFTER_SECONDS,
    AppError,
    database_unreachable,
    log_unexpected,
)
from app.core.pagination import CURSOR_PATTERN
from app.core.routing import AppRoute, query_names
from app.fhir import search
from app.fhir.resources import operation_outcome
from app.fhir.schemas import OperationOutcome

FHIR_JSON = "application/fhir+json"


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def outcome(
    status: int, detail: str, where: list[tuple[str, str]] | None = None, **kw: Any
) -> Response:
    return FhirResponse(operation_outcome(status, detail, where), status_code=status, **kw)


def _where(pointer: str) -> str:
    """`#query/_count` -> `_count` (the parameter), `/field` -> `field`."""
    return pointer.split("/", 1)[1] if pointer.startswith("#") else pointer.lstrip("/")


def _diagnosis(e: Any, described: Mapping[str, str]) -> str:
    """A validation error in words: a value that does not have a parameter's form is told
    what the parameter takes (its description), not the regular expression that checked it."""
    if e.get("type") != "string_pattern_mismatch":
        return str(e.get("msg"))
    loc = e.get("loc", ())
    name = str(loc[1]) if len(loc) > 1 else ""
    what = described.get(name)
    return f"Not a value this parameter takes. {what}" if what else "Not a value it takes."


def render_error(
    exc: Exception, method: str, path: str, described: Mapping[str, str] | None = None
) -> Response:
    """The OperationOutcome for anything a FHIR route raises (304 stays an empty 304).
    `described`: the route's parameters' descriptions, by the name the caller sends."""
    if isinstance(exc, AppError):
        if exc.status == 304:
            return Response(status_code=304, headers=exc.headers)
        where = [(_where(e["pointer"]), e["detail"]) for e in exc.errors or []]
        return outcome(exc.status, exc.detail, where, headers=exc.headers)
    if isinstance(exc, RequestValidationError):
        where = [
            (
                ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                _diagnosis(e, described or {}),
            )
            for e in exc.errors()
        ]
        return outcome(400, "Invalid search or read parameters:", where)
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "Error"
        return outcome(exc.status_code, detail, headers=dict(exc.headers or {}))
    if database_unreachable(exc):
        return outcome(
            503,
            "The database cannot be reached just now.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log_unexpected(method, path, exc)
    return outcome(500, "Something went wrong; it has been logged.")


class FhirRoute(AppRoute):
    refuses_unknown_query = False  # search_of: ignored, or refused under handling=strict

    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any) -> None:
        super().__init__(path, endpoint, **kw)
        # Every query parameter this route (or its dependencies) reads: the rest are
        # "unknown" to FHIR's handling preference.
        self.query_names = query_names(self.dependant)
        self.described = _descriptions(self.dependant)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as e:  # noqa: BLE001 - every error answers as an OperationOutcome
                return render_error(e, request.method, request.url.path, self.described)

        return route_handler


def _descriptions(dependant: Any) -> dict[str, str]:
    found = {
        f.alias: f.field_info.description
        for f in (*dependant.path_params, *dependant.query_params)
        if f.field_info.description
    }
    for sub in dependant.dependencies:
        found = {**_descriptions(sub), **found}
    return found


def _strict(prefer: str | None) -> bool:
    return any(
        part.strip().replace(" ", "") == "handling=strict"
        for part in (prefer or "").split(",")
        for part in part.split(";")
    )


async def search_of(
    request: Request,
    count: Annotated[
        int | None,
        Query(
            alias="_count",
            ge=0,
            description=f"Page size (default {search.DEFAULT_COUNT}; more than"
            f" {search.MAX_COUNT} is served as {search.MAX_COUNT}); 0: the total only.",
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            alias="_cursor",
            max_length=500,
            description="Opaque: follow the Bundle's `next` link rather than building it.",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
    prefer: Annotated[
        str | None,
        Header(
            description="`handling=strict`: an unsupported search parameter is an error"
            " (400) instead of being ignored (the default, `handling=lenient`)."
        ),
    ] = None,
) -> search.Search:
    """The search's paging and links: unknown parameters are left out of them (ignored),
    or refused under `Prefer: handling=strict`."""
    route = request.scope.get("route")
    known: frozenset[str] = getattr(route, "query_names", frozenset())
    given = [k for k, _ in request.query_params.multi_items()]
    unknown = search.unknown_parameters(given, known)
    search.refuse_patient_filters(unknown)
    if _strict(prefer):
        search.refuse_unknown(unknown)
    used = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k in known and k not in ("_count", "_cursor")
    ]
    kind = request.url.path.rstrip("/").rsplit("/", 1)[1]
    return search.Search(
        base=fhir_base(request),
        resource_type=kind,
        params=used,
        count=search.clamp_count(count),
        cursor=cursor or None,
    )


def fhir_base(request: Request) -> str:
    path = request.url.path
    return str(request.base_url).rstrip("/") + path[: path.index("/fhir/") + len("/fhir")]


SearchDep = Annotated[search.Search, Depends(search_of)]

_TITLES = {
    304: "Not modified: your copy (If-None-Match) is current",
    400: "Invalid parameters (an OperationOutcome)",
    401: "No valid access token (an OperationOutcome)",
    404: "No such resource, or you may not see it (an OperationOutcome)",
}


def outcome_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a FHIR route's errors: OperationOutcome as application/fhir+json."""
    out: dict[int | str, dict[str, Any]] = {}
    for s in statuses:
        if s == 304:
            out[s] = {"description": _TITLES[s]}
        else:
            out[s] = {
                "model": OperationOutcome,
                "content": {FHIR_JSON: {}},
                "description": _TITLES.get(s, "Error (an OperationOutcome)"),
            }
    return out
