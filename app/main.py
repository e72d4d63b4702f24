"""create_app(): lifespan (engine, http client, worker), middleware, error handlers."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from app import api, bootstrap, openapi, worker
from app.core import clock
from app.core.config import get_settings
from app.core.db import dispose_engine, init_engine, unit_of_work
from app.core.errors import install_error_handlers
from app.core.idempotency import IdempotentReplay, replay_response
from app.core.middleware import (
    BodyLimitMiddleware,
    MetricsMiddleware,
    NulRefusalMiddleware,
    UnhandledErrorMiddleware,
)
from app.core.migrations import code_heads, database_heads
from app.core.observability import RequestContextMiddleware, configure_logging
from app.core.ratelimit import RateLimitMiddleware
from app.core.registry import domain_modules
from app.events.service import load_listeners
from app.ops.router import PROBES

log = logging.getLogger("app")


class SchemaBehind(RuntimeError):
    """The database has not been migrated to the code's head."""


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    s = get_settings()
    clock.configure(s.clock_start, s.clock_speed, s.clock_anchor, s.clock_file)
    engine = init_engine(s.database_url)
    have, want = await database_heads(engine), code_heads()
    if have != want:
        await dispose_engine()
        raise SchemaBehind(
            f"database at {sorted(have)}, code at {sorted(want)}: run `alembic upgrade head`"
        )
    async with unit_of_work() as session:
        await bootstrap.one_at_a_time(session)
        await bootstrap.ensure_admin(session, s)
        if s.demo_data and await bootstrap.is_empty(session):
            logins = await bootstrap.load_demo(session)
            log.warning(
                "demo programme loaded; password for every demo login: %s", bootstrap.DEMO_PASSWORD
            )
            for email, role in logins:
                log.warning("  %-14s %s", role, email)
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
            # The pass in progress finishes; one stuck past the grace period is cancelled.
            try:
                await asyncio.wait_for(task, timeout=15)
            except TimeoutError:
                log.warning("worker pass still running at shutdown: cancelled")
        await app.state.http.aclose()
        await dispose_engine()


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return replay_response(exc.record, request.url.path)


def create_app() -> FastAPI:
    s = get_settings()
    configure_logging(s.log_format, s.log_level)
    load_listeners()
    app = FastAPI(
        title="Consult backend",
        version="1.0.0",
        description="Telemedicine consults for rural clinics and mission hospitals.",
        lifespan=lifespan,
        routes=api.routes(index=not s.opentelemetry),
        generate_unique_id_function=openapi.unique_id,
        telemetry=None if s.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(NulRefusalMiddleware)
    # Every answer but the probes' counts against the caller's limit (inside CORS, so a
    # browser may read a 429 and its fields).
    app.add_middleware(RateLimitMiddleware, exempt=PROBES)
    if s.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=s.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "Location",
                "ETag",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
                "X-Request-ID",
            ],
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(UnhandledErrorMiddleware)  # nothing escapes unrendered
    app.add_middleware(RequestContextMiddleware)  # outermost: the request id, one log line
    # FastAPI documents replacing the method; its stubs declare it a method, hence the ignore.
    app.openapi = lambda: openapi.build(app)  # type: ignore[method-assign]
    return app


app = create_app()
