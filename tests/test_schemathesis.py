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
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

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
    *,
    ids: dict[str, str] | None = None,
    mode: GenerationMode = GenerationMode.POSITIVE,
    checks: list[Any] = CHECKS,
    examples: int = EXAMPLES,
) -> tuple[list[str], int]:
    """Generated requests for every selected operation; `ids` fixes the path parameters it
    names (real resources, so the requests get past the 404 to the work)."""
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
            names = {p.name for p in op.path_parameters}
            fixed = {k: v for k, v in (ids or {}).items() if k in names} or None

            @given(case=op.as_strategy(mode, path_parameters=fixed))
            @hyp_settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks)

            try:
                check()
            except Unsatisfiable:  # nothing of this operation can be made malformed
                continue
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


async def _world(client: Any, factory: Any) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Real resources of every kind a path names, and the people who may act on them."""
    from tests.notes.helpers import note_world, write_note
    from tests.rounds.support import make_round

    w = await note_world(factory)
    coordinator = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    partner = await factory.make_client(w.org.id)
    offer = await factory.make_offer(
        (await factory.make_case(w.org.id, submitted_by_id=w.clinician.id)).id, w.specialist.id
    )
    note = await write_note(client, factory, w)
    spec, clin = factory.headers(w.specialist), factory.headers(w.clinician)
    r = await client.post(
        f"/api/v1/cases/{w.case.id}/follow-ups",
        headers=spec,
        json={"due_at": "2027-01-05T10:00:00Z", "description": "x", "assignee_id": w.clinician.id},
    )
    assert r.status_code == 201, r.text
    follow_up = r.json()["id"]
    r = await client.post(
        f"/api/v1/cases/{w.case.id}/attachments",
        files={"file": ("a.pdf", b"%PDF-1.7\n" + bytes(64), "application/pdf")},
        headers=clin,
    )
    assert r.status_code == 201, r.text
    attachment = r.json()["id"]
    series = await make_round(w.org.id, participants=[(w.specialist.id, "presenter")])
    r = await client.get(
        f"/api/v1/rounds/{series.id}/occurrences",
        params={"from": "2026-10-01T00:00:00Z"},
        headers=clin,
    )
    assert r.status_code == 200 and r.json()["items"], r.text
    start = r.json()["items"][0]["start"]
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://partner.example.org/hook", "events": ["case.assigned"]},
        headers=factory.headers(partner),
    )
    assert r.status_code == 201, r.text
    ids = {
        "case_id": w.case.id,
        "note_id": note["id"],
        "offer_id": offer.id,
        "follow_up_id": follow_up,
        "attachment_id": attachment,
        "round_id": series.id,
        "start": start,
        "occurrence_id": f"{series.id}_{start}",
        "webhook_id": r.json()["id"],
        "user_id": w.clinician.id,
        "organization_id": w.org.id,
        "specialist_id": w.specialist.id,
    }
    who = {
        "clinician": clin,
        "specialist": spec,
        "coordinator": factory.headers(coordinator),
        "admin": factory.headers(admin),
        "partner": factory.headers(partner),
    }
    return ids, who


# A fuzz run over every operation on real resources, as each kind of caller, with valid
# and with malformed input (issue 16): whatever comes, the answer is never a server error.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


async def test_no_input_from_anyone_makes_a_server_error(app, client, factory):
    ids, who = await _world(client, factory)
    loop = asyncio.get_running_loop()
    failures: list[str] = []
    for name, headers in who.items():
        for mode in GenerationMode:
            found, checked = await asyncio.to_thread(
                _run,
                app,
                loop,
                headers,
                lambda path: True,
                ids=ids,
                mode=mode,
                checks=[not_a_server_error],
                examples=FUZZ_EXAMPLES,
            )
            failures += [f"[{name}, {mode.value}] {f}" for f in found]
    assert checked >= 80
    assert failures == [], "\n\n".join(failures)
