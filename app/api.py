"""Every route the app serves, from each domain's routers, in the order they are matched.

Each router was made with its prefix (`make_router`: /api/v1 unless it serves the site's
root), so its routes already carry their whole paths and the app serves them as they are.
"""

from fastapi import APIRouter
from starlette.routing import BaseRoute

from app.core.registry import domain_modules
from app.core.routing import RouteIndex
from app.ops.router import ops_router

# A domain module's routers: the API's, and the ones at the root (a standard's
# /.well-known address; the console's pages).
_API = ("router", "users", "clients", "oauth")
_ROOT = ("root",)


def _routers(module: object, names: tuple[str, ...]) -> list[APIRouter]:
    return [r for n in names if isinstance(r := getattr(module, n, None), APIRouter)]


def routes(index: bool = True) -> list[BaseRoute]:
    """The probes, the API, the console's pages, then the rest of the root; ahead of them
    all, the table's index (app.core.routing.RouteIndex), unless FastAPI's OpenTelemetry
    is on: it names a request's span after the route the walk found."""
    routers = [ops_router]
    routers += [r for m in domain_modules("router") for r in _routers(m, _API)]
    routers += [m.pages for m in domain_modules("pages")]
    routers += [r for m in domain_modules("router") for r in _routers(m, _ROOT)]
    table = [route for router in routers for route in router.routes]
    return [RouteIndex(table), *table] if index else table
