"""The route class every domain router uses: idempotent POSTs and strict content types.

`@lean` endpoints (the two hottest: POST and GET /cases) keep their FastAPI signature, so
the OpenAPI document and validation errors are the same as anywhere else, but run without
FastAPI's dependency solving and the ORM session: one driver transaction (app.core.rawdb)
checks the token, honours Idempotency-Key, runs the endpoint and commits its writes
together. Profiles put dependency solving and the session's per-statement cost at over
half of those requests.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response, params
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app.core import idempotency, rawdb
from app.core.deps import (
    client_ip,
    current_principal,
    decode_access,
    principal_from_row,
    principal_read,
)
from app.core.errors import Unauthorized, UnsupportedMediaType
from app.core.idempotency import idempotency_guard
from app.core.schemas import secret_fields
from app.core.security import peek_subject

JSON_TYPES = ("application/json",)
F = TypeVar("F", bound=Callable[..., Any])


def _no_session() -> rawdb.DriverDb:
    raise RuntimeError("only @lean endpoints take LeanDb")  # pragma: no cover


# A lean endpoint's transaction. As a FastAPI dependency it is a marker only.
LeanDb = Annotated[rawdb.DriverDb, Depends(_no_session)]


def lean(endpoint: F) -> F:
    """Run this endpoint on the lean path (see the module's docstring). It may take the
    request body, query parameters, `Request`, `CurrentPrincipal` and `LeanDb` only."""
    endpoint.__lean__ = True  # type: ignore[attr-defined]
    return endpoint


def _json_content_type(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not ctype or ctype in JSON_TYPES or ctype.endswith("+json")


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any) -> None:
        methods = {m.upper() for m in (kw.get("methods") or ())}
        self.is_lean = bool(getattr(endpoint, "__lean__", False))
        if "POST" in methods and not self.is_lean:
            kw["dependencies"] = [
                Depends(idempotency_guard, scope="function"),
                *(kw.get("dependencies") or []),
            ]
        super().__init__(path, endpoint, **kw)
        # Read by the Idempotency-Key guard: an answer with a secret is never stored, and
        # a body the endpoint reads itself (documented, but no body parameter: an upload)
        # is hashed on its way, never read whole before it (idempotency.body_stream).
        self.secret_fields = secret_fields(self.response_model)
        self.streams_body = not self.dependant.body_params and "requestBody" in (
            self.openapi_extra or {}
        )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if self.is_lean:
            return self._lean_handler()
        handler = super().get_route_handler()
        body_params = self.dependant.body_params
        expects_json = bool(body_params) and not any(
            isinstance(p.field_info, (params.Form, params.File)) for p in body_params
        )

        async def route_handler(request: Request) -> Response:
            if expects_json and request.method in ("POST", "PUT", "PATCH"):
                if not _json_content_type(request):
                    raise UnsupportedMediaType("Send the body as application/json.")
            response = await handler(request)
            # Read by the idempotency guard before the transaction commits.
            request.state.response = response
            return response

        return route_handler

    def _lean_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # The endpoint's own dependant: a lean endpoint may not take router-level
        # dependencies (refused below), so the including routers add nothing it needs.
        d = self.dependant
        body_fields = list(d.body_params)
        query_fields = list(d.query_params)
        if d.path_params or d.header_params or d.cookie_params or len(body_fields) > 1:
            raise TypeError(f"{self.path}: a @lean endpoint takes a body and query only")
        principal_arg = db_arg = None
        for sub in d.dependencies:
            if sub.call is current_principal:
                principal_arg = sub.name
            elif sub.call is _no_session:
                db_arg = sub.name
            else:
                raise TypeError(f"{self.path}: a @lean endpoint cannot depend on {sub.call}")
        if principal_arg is None or db_arg is None:
            raise TypeError(f"{self.path}: a @lean endpoint takes CurrentPrincipal and LeanDb")
        request_arg = d.request_param_name
        endpoint = self.endpoint
        # FastAPI's rule: one body parameter is the body itself unless declared embedded.
        embed = len(body_fields) > 1 or bool(
            body_fields and getattr(body_fields[0].field_info, "embed", False)
        )

        async def lean_handler(request: Request) -> Response:
            raw = b""
            body: Any = None
            if body_fields:
                if not _json_content_type(request):
                    raise UnsupportedMediaType("Send the body as application/json.")
                raw = await request.body()
                body = _parse_json(raw, request)
            auth = request.headers.get("authorization", "")
            if not auth[:7].lower() == "bearer " or not auth[7:].strip():
                raise Unauthorized("Send a bearer access token.")
            token = auth[7:].strip()
            # Before the connection is taken: a duplicate in flight is 409 at once.
            held = (
                idempotency.reserve(request, raw, peek_subject(token))
                if request.method == "POST"
                else None
            )
            try:
                claims = decode_access(token)
                async with rawdb.transaction() as db:
                    # The token check and the Idempotency-Key lookup: one round trip.
                    reads = [principal_read(claims)]
                    if held is not None:
                        reads.append(idempotency.lookup(db, held))
                    rows = await db.fetchrows(*reads)
                    # Authentication before replay: a revoked token gets 401, never the
                    # stored answer.
                    p = principal_from_row(claims, rows[0], client_ip(request))
                    request.state.principal = p
                    if held is not None:
                        idempotency.found(db, held, rows[1])
                    kwargs, errors = request_params_to_args(query_fields, request.query_params)
                    if body_fields:
                        values, body_errors = await request_body_to_args(body_fields, body, embed)
                        kwargs.update(values)
                        errors.extend(body_errors)
                    if errors:
                        raise RequestValidationError(errors, body=body)
                    if held is not None:
                        await idempotency.check(db, held)
                    kwargs[principal_arg] = p
                    kwargs[db_arg] = db
                    if request_arg:
                        kwargs[request_arg] = request
                    response: Response = await endpoint(**kwargs)
                    if held is not None:
                        await idempotency.keep(db, held, response)
            finally:
                idempotency.release(held)
            return response

        return lean_handler


def _parse_json(raw: bytes, request: Request) -> Any:
    """As FastAPI reads a JSON body: empty is absent; malformed is its json_invalid error."""
    if not raw:
        return None
    if not request.headers.get("content-type"):
        return raw  # FastAPI's strict content type: not JSON, so the model refuses it
    try:
        return json.loads(raw)
    except UnicodeDecodeError as e:  # not UTF-8: as malformed as bad JSON
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", e.start), "msg": "JSON decode error"}]
        ) from e
    except RecursionError as e:  # nested past the parser's depth: as malformed as bad JSON
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON nested too deeply"}]
        ) from e
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
        ) from e


def make_router(**kw: Any) -> APIRouter:
    return APIRouter(route_class=AppRoute, **kw)
