"""Finds each domain package's pieces by convention, so adding a domain edits no shared list:
`app/<domain>/router.py` (`router`), `models.py`, `jobs.py` (`JOBS`), `demo.py` (`load`),
`listeners.py`, `lifespan.py`, `record.py`, `workload.py` (a specialist's open cases),
`directory.py` (`shared(principal)`: whom the people directory shows her beyond its rule
by role) and `pages.py` (`pages`, a router served at the site's root: the console),

`metrics.py` (`figures(session, app_state)`: the domain's gauges for Prometheus)."""

import importlib
import pkgutil
from types import ModuleType

import app

SKIP = {"core"}


def domain_modules(name: str) -> list[ModuleType]:
    found = []
    for info in sorted(pkgutil.iter_modules(app.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in SKIP:
            continue
        try:
            found.append(importlib.import_module(f"app.{info.name}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"app.{info.name}.{name}":
                raise
    return found


def import_all_models() -> None:
    importlib.import_module("app.core.idempotency_models")
    domain_modules("models")
