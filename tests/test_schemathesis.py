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
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from app.core.principal import Role

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
# Every check schemathesis has (None: all of them), on valid and on invalid requests.
CHECKS = None
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
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
# The operations in groups that take about as long to fuzz, one test each: xdist spreads
# them over its workers, and no single long run is left going alone at the suite's end.
# Named by the first segment after /api/v1/; "others" is every other operation, so each
# operation is in exactly one group.
GROUPS: dict[str, tuple[str, ...]] = {
    "cases": ("cases", "attachments", "notes", "offers", "follow-ups"),
    "rounds": ("rounds", "calendar", "specialists", "specialties", "rtc"),
    "partners": ("fhir", "webhooks", "changes", "notification-deliveries", "api-clients"),
}
REST = "others"
BY_GROUP = pytest.mark.parametrize("group", [*GROUPS, REST])


def group_of(path: str) -> str:
    segment = path.removeprefix("/api/v1/").split("/")[0] if path.startswith("/api/v1/") else ""
    return next((name for name, segments in GROUPS.items() if segment in segments), REST)


# Rules JSON Schema cannot state, each refused with a 422 naming it: an error pointing at
# an id that does not exist (the schema gives an id's shape, never which ids exist: the
# same reason a made-up path id is 404), and rules across fields or about the caller.
NOT_EXPRESSIBLE = (
    (r"_ids?(/\d+)?$", r"unknown|no such"),  # a reference to nothing
    (r"^/availability/\d+$", r"end must be after start"),  # one field compared with another
    (r"^/organization_id$", r"required for staff"),  # staff name the facility they act for
    (r"^/organization_id$", r"required for clinicians"),  # an invited clinician's facility
    (r"^/current_password$", r"does not match"),  # a secret no generator knows
    (r"^/(new_)?password$", r"too simple"),  # repeated or sequential keys (app/auth/schemas.py)
)
# Refusals that depend on something only a person holds, whatever the body's shape.
NOT_EXPRESSIBLE_TYPES = ("/invalid-code",)  # the code sent to the phone by SMS


def _not_expressible(response: Any) -> bool:
    """A 422 whose every error is one of NOT_EXPRESSIBLE (and nothing else)."""
    if response.status_code != 422:
        return False
    if str((response.json() or {}).get("type", "")).endswith(NOT_EXPRESSIBLE_TYPES):
        return True
    errors = (response.json() or {}).get("errors") or []
    return bool(errors) and all(
        any(
            re.search(where, e.get("pointer", "")) and re.search(what, e.get("detail", ""), re.I)
            for where, what in NOT_EXPRESSIBLE
        )
        for e in errors
    )


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
    modes: tuple[GenerationMode, ...] = MODES,
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
            for mode in modes:

                @given(case=op.as_strategy(generation_mode=mode))
                @hyp_settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: Any) -> None:
                    # (`mode` is this iteration's: check() runs before the loop moves on.)
                    positive = mode is GenerationMode.POSITIVE  # noqa: B023
                    for opaque in ("cursor", "since", "checkpoint", "_cursor"):
                        if positive and case.query and opaque in case.query:
                            # Minted by the server and signed: like an id, no schema can
                            # say which strings are live ones (a made-up one is 400). An
                            # invalid request keeps it: 400 is a right answer there, and
                            # taking it out could take out the only invalid part (a
                            # boolean cursor) and leave a valid request "accepted".
                            case.query.pop(opaque)
                    if case.headers and "Idempotency-Key" in case.headers:
                        # One key per request: a key reused with another body is 422 by
                        # the contract, a history no schema describes.
                        case.headers["Idempotency-Key"] = uuid.uuid4().hex
                    response = case.call(headers=headers)
                    excluded = [positive_data_acceptance] if _not_expressible(response) else []
                    case.validate_response(response, checks=CHECKS, excluded_checks=excluded)

                try:
                    check()
                except Unsatisfiable:
                    # Nothing to make invalid: no body and no parameter with a rule to break.
                    assert mode is GenerationMode.NEGATIVE, op.path
                except (Exception, BaseExceptionGroup) as e:  # each operation's first failure
                    failures.append(
                        f"{op.method.upper()} {op.path} ({mode.value}): {str(e).strip()[:1500]}"
                    )
    finally:
        shutdown_lifespans()
    return failures, checked


async def _check(
    app: Any, factory: Any, select: Callable[[str], bool], mode: GenerationMode
) -> int:
    admin = await factory.make_user(Role.admin)
    loop = asyncio.get_running_loop()
    failures, checked = await asyncio.to_thread(
        _run, app, loop, factory.headers(admin), select, (mode,)
    )
    assert failures == [], "\n\n".join(failures)
    return checked


# One test per generation mode (valid, then invalid requests): the same checks, spread
# over xdist's workers.
BY_MODE = pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)


@BY_MODE
async def test_foundation_operations_conform(app, factory, mode):
    checked = await _check(app, factory, lambda path: path.startswith(FOUNDATION_PREFIXES), mode)
    assert checked >= 14  # auth, users, API clients, facilities, operations, audit


# Operations each group must reach outside the foundation (79 in all on 2026-12-05).
OTHER_DOMAINS_AT_LEAST = {"cases": 25, "rounds": 20, "partners": 20, "others": 5}


@BY_GROUP
@BY_MODE
async def test_the_other_domains_operations_conform(app, factory, mode, group):
    checked = await _check(
        app,
        factory,
        lambda path: not path.startswith(FOUNDATION_PREFIXES) and group_of(path) == group,
        mode,
    )
    assert checked >= OTHER_DOMAINS_AT_LEAST[group], checked
