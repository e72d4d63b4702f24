"""Each domain's routers: the API's under /api/v1, and the few a standard puts at the root.

The app includes every domain router itself, each with the /api/v1 prefix, rather than one
/api/v1 router holding them all: FastAPI matches an included router by walking its routes,
then walks them again to hand the request on, so every level of nesting is another pass
over a hundred routes on every request (a fifth of a simple read's time, measured with
`bench/`'s `--profile`).
"""

from fastapi import APIRouter

from app.core.registry import domain_modules

API_PREFIX = "/api/v1"


def api_routers() -> list[APIRouter]:
    """The routers served under `API_PREFIX`, in the registry's order."""
    found: list[APIRouter] = []
    for module in domain_modules("router"):
        for attr in ("router", "users", "clients", "oauth"):
            r = getattr(module, attr, None)
            if isinstance(r, APIRouter):
                found.append(r)
    return found


def root_routers() -> list[APIRouter]:
    """What must sit at the root by a standard's rule (RFC 8414's /.well-known/...)."""
    return [
        module.root
        for module in domain_modules("router")
        if isinstance(getattr(module, "root", None), APIRouter)
    ]
