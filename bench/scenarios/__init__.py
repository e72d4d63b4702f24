"""The scenario registry: every module in this package is a scenario, found by name.

A scenario module defines

    async def targets(ctx: Context) -> list[Target]

which seeds what it needs through `ctx` (a test-style factory on the benchmark database, and
`ctx.headers(user_or_client)` for a bearer token) and returns the endpoints to load. See
docs/bench.md.
"""

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

# Replaced by wrk, per request, with a value unique across threads and requests: use it in a
# path or body where each request must create something new (an email, a client_msg_id).
UNIQUE = "$UNIQUE"


@dataclass
class Target:
    """One endpoint under load. `body` is sent as JSON (a str is sent as is).

    POSTs get a fresh Idempotency-Key per request unless `idempotency_key` is False. With
    `paths`, requests take them in turn (the load spread over several resources); `path` is
    the one checked before the load. With `each`, the i-th request sends the i-th
    (path, headers) pair, its headers over `headers`: a pool of actions that can be done
    only once, each by its own person (offer accepts); past the pool's end the last is sent
    again; one wrk thread (the default) walks a pool. `lua` replaces the generated request
    function entirely (a wrk script defining `request`); the harness still appends its own
    `done` reporter.
    """

    name: str
    method: str = "GET"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    lua: str | None = None
    idempotency_key: bool = True
    paths: tuple[str, ...] = ()
    each: tuple[tuple[str, dict[str, str]], ...] = ()
    # The statuses that count as success (anything else is reported as errors).
    expect_status: tuple[int, ...] = (200, 201)


@dataclass
class Scenario:
    name: str
    targets: Callable[[Any], Awaitable[list[Target]]]
    # Settings the app process needs for this scenario (merged over the harness defaults).
    env: dict[str, str] = field(default_factory=dict)


def _load(module: ModuleType) -> Scenario | None:
    fn = getattr(module, "targets", None)
    if fn is None:
        return None
    return Scenario(
        name=module.__name__.rsplit(".", 1)[-1], targets=fn, env=dict(getattr(module, "ENV", {}))
    )


def discover(only: list[str] | None = None) -> list[Scenario]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or (only and info.name not in only):
            continue
        scenario = _load(importlib.import_module(f"{__name__}.{info.name}"))
        if scenario is not None:
            found.append(scenario)
    return found
