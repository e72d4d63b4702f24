"""schemathesis against the app's own OpenAPI schema, in-process, signed in as an admin.

Every operation gets a bounded number of generated requests (SCHEMATHESIS_EXAMPLES, default
8); no answer may be a server error, and every answer must match what the schema documents:
its status code, its content type (problem+json for errors) and its body.

schemathesis drives an ASGI app from its own event-loop thread. The suite's app (and its
database pool) lives on the test's loop, so a small bridge runs each request there: the
generated traffic meets the same app, engine and data as every other test.
"""

import asyncio
import os
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.principal import Role

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The foundation's own operations (auth, users, API clients, facilities, operations).
FOUNDATION_PREFIXES = (
    "/api/v1/auth",
    "/api/v1/me",
    "/api/v1/users",
    "/api/v1/api-clients",
    "/api/v1/organizations",
    "/healthz",
    "/readyz",
    "/metrics",
    "/audit",
)
# Streams and binary downloads are not JSON-schema checkable; WebSockets are not in OpenAPI.
SKIP_PATHS = ("/calendar", ".ics", "/content")


def _bridge(app: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """An ASGI app for schemathesis's thread that serves each request on `loop`."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the suite's app is already started
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        here = asyncio.get_running_loop()

        async def receive_there() -> Any:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(receive(), here))

        async def send_there(message: Any) -> None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(message), here))

        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(app(scope, receive_there, send_there), loop)
        )

    return asgi


def _run(
    app: Any,
    loop: asyncio.AbstractEventLoop,
    headers: dict[str, str],
    select: Callable[[str], bool],
) -> tuple[list[str], int]:
    from schemathesis.python.asgi import shutdown_lifespans

    schema = schemathesis.openapi.from_asgi("/openapi.json", _bridge(app, loop))
    failures: list[str] = []
    checked = 0
    try:
        for result in schema.get_all_operations():
            op = result.ok()
            if not select(op.path) or any(s in op.path for s in SKIP_PATHS):
                continue
            checked += 1

            @given(case=op.as_strategy())
            @hyp_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except (Exception, BaseExceptionGroup) as e:  # every operation's first failure
                failures.append(f"{op.method.upper()} {op.path}: {str(e).strip()[:1500]}")
    finally:
        shutdown_lifespans()
    return failures, checked


async def _check(app: Any, factory: Any, select: Callable[[str], bool]) -> int:
    admin = await factory.make_user(Role.admin)
    loop = asyncio.get_running_loop()
    failures, checked = await asyncio.to_thread(_run, app, loop, factory.headers(admin), select)
    assert failures == [], "\n\n".join(failures)
    return checked


async def test_foundation_operations_conform(app, factory):
    checked = await _check(app, factory, lambda path: path.startswith(FOUNDATION_PREFIXES))
    assert checked >= 14  # auth, users, API clients, facilities, operations, audit


async def test_the_other_domains_operations_conform(app, factory):
    await _check(app, factory, lambda path: not path.startswith(FOUNDATION_PREFIXES))
