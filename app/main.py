"""create_app(): lifespan (engine, http client, worker), middleware, error handlers."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from app import bootstrap, worker
from app.api import api_router
from app.core import clock
from app.core.config import get_settings
from app.core.db import dispose_engine, init_engine, sessionmaker
from app.core.errors import PROBLEM, Problem, install_error_handlers
from app.core.idempotency import IdempotentReplay, replay_response
from app.core.middleware import (
    BodyLimitMiddleware,
    MetricsMiddleware,
    NulRefusalMiddleware,
    UnhandledErrorMiddleware,
)
from app.core.migrations import code_heads, database_heads
from app.core.registry import domain_modules
from app.events.service import load_listeners
from app.ops.router import ops_router

log = logging.getLogger("app")


class SchemaBehind(RuntimeError):
    """The database has not been migrated to the code's head."""


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    s = get_settings()
    clock.configure(s.clock_start, s.clock_speed)
    engine = init_engine(s.database_url)
    have, want = await database_heads(engine), code_heads()
    if have != want:
        await dispose_engine()
        raise SchemaBehind(
            f"database at {sorted(have)}, code at {sorted(want)}: run `alembic upgrade head`"
        )
    async with sessionmaker()() as session:
        await bootstrap.ensure_admin(session, s)
        if s.demo_data and await bootstrap.is_empty(session):
            logins = await bootstrap.load_demo(session)
            log.warning(
                "demo programme loaded; password for every demo login: %s", bootstrap.DEMO_PASSWORD
            )
            for email, role in logins:
                log.warning("  %-14s %s", role, email)
        await session.commit()
    app.state.http = httpx.AsyncClient(timeout=10, follow_redirects=False)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop)) if s.run_worker else None
    try:
        # Each domain may run something for the app's lifetime (app/<domain>/lifespan.py,
        # `lifespan(app)` an async context manager): the live hub's relay, for one.
        async with contextlib.AsyncExitStack() as stack:
            for module in domain_modules("lifespan"):
                await stack.enter_async_context(module.lifespan(app))
            yield
    finally:
        stop.set()
        if task:
            await task
        await app.state.http.aclose()
        await dispose_engine()


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return replay_response(exc.record)


_IMPLIED = {
    "400": "Malformed body or invalid cursor",
    "401": "No valid access token",
    "409": "A request with this Idempotency-Key is still in flight",
    "413": "Body too large",
    "415": "Body is not JSON",
    "422": "Validation failed (or Idempotency-Key reused with another body)",
    "500": "Internal error",
}


def _implied_errors(op: dict[str, Any]) -> list[str]:
    """Errors the shared machinery can give on any route, documented where they apply."""
    codes = ["500"]
    params = {p.get("name") for p in op.get("parameters", [])}
    if op.get("requestBody"):
        codes += ["400", "413", "415", "422"]
    if "cursor" in params:
        codes.append("400")  # a tampered cursor
    if params:
        codes.append("422")
    if op.get("security"):
        codes.append("401")
    return codes


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Document every error, request validation included, as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for defn in (
        Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        .get("$defs", {})
        .items()
    ):
        comps.setdefault(*defn)
    comps.get("Problem", {}).pop("$defs", None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path in schema.get("paths", {}).values():
        for method, op in path.items():
            if method == "post":  # the Idempotency-Key guard on every POST
                for code in ("409", "422"):
                    op.setdefault("responses", {}).setdefault(code, {"description": _IMPLIED[code]})
            responses = op.get("responses", {})
            for code, resp in list(responses.items()):
                if code.startswith(("4", "5")):
                    resp["content"] = {PROBLEM: {"schema": ref}}
            for code in _implied_errors(op):
                responses.setdefault(
                    code, {"description": _IMPLIED[code], "content": {PROBLEM: {"schema": ref}}}
                )
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    app.openapi_schema = schema
    return schema


def create_app() -> FastAPI:
    s = get_settings()
    load_listeners()
    app = FastAPI(
        title="Consult backend",
        version="1.0.0",
        description="Telemedicine consults for rural clinics and mission hospitals.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(NulRefusalMiddleware)
    if s.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=s.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "ETag"],
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(UnhandledErrorMiddleware)  # outermost: nothing escapes unrendered
    app.include_router(ops_router)
    app.include_router(api_router)
    # FastAPI documents replacing the method; its stubs declare it a method, hence the ignore.
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
