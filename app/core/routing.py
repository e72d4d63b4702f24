"""The route class every domain router uses: idempotent POSTs and strict content types."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, params
from fastapi.routing import APIRoute

from app.core.errors import UnsupportedMediaType
from app.core.idempotency import idempotency_guard

JSON_TYPES = ("application/json",)


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any) -> None:
        methods = {m.upper() for m in (kw.get("methods") or ())}
        if "POST" in methods:
            kw["dependencies"] = [
                Depends(idempotency_guard, scope="function"),
                *(kw.get("dependencies") or []),
            ]
        super().__init__(path, endpoint, **kw)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body_params = self.dependant.body_params
        expects_json = bool(body_params) and not any(
            isinstance(p.field_info, (params.Form, params.File)) for p in body_params
        )

        async def route_handler(request: Request) -> Response:
            if expects_json and request.method in ("POST", "PUT", "PATCH"):
                ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype and ctype not in JSON_TYPES and not ctype.endswith("+json"):
                    raise UnsupportedMediaType("Send the body as application/json.")
            response = await handler(request)
            # Read by the idempotency guard before the transaction commits.
            request.state.response = response
            return response

        return route_handler


def make_router(**kw: Any) -> APIRouter:
    return APIRouter(route_class=AppRoute, **kw)
