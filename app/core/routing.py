"""The route class every domain router uses: the unit of work, idempotent POSTs and strict
content types.

Every route runs inside one unit of work (app.core.db.unit_of_work): one session, opened
here rather than as a dependency, committed after the handler (and its dependencies'
exits: the Idempotency-Key record) and before the response leaves, rolled back before an
error is answered. `SessionDep` hands the route that session.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from app.core import idempotency
from app.core.db import unit_of_work
from app.core.errors import UnsupportedMediaType
from app.core.queries import queries

JSON_TYPES = ("application/json",)


def _json_content_type(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not ctype or ctype in JSON_TYPES or ctype.endswith("+json")


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any) -> None:
        methods = {m.upper() for m in (kw.get("methods") or ())}
        self.idempotent = "POST" in methods
        super().__init__(path, endpoint, **kw)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        idempotent = self.idempotent
        body_params = self.dependant.body_params
        expects_json = bool(body_params) and not any(
            isinstance(p.field_info, (params.Form, params.File)) for p in body_params
        )

        async def route_handler(request: Request) -> Response:
            if expects_json and request.method in ("POST", "PUT", "PATCH"):
                if not _json_content_type(request):
                    raise UnsupportedMediaType("Send the body as application/json.")
            try:
                async with unit_of_work() as session:
                    request.state.session = session
                    if not idempotent:
                        return await handler(request)
                    async with idempotency.guard(request, session) as held:
                        response = await handler(request)
                        if held is not None:
                            await idempotency.keep(await queries(session), held, response)
                    return response
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


def make_router(**kw: Any) -> APIRouter:
    return APIRouter(route_class=AppRoute, **kw)
