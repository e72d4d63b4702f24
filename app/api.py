"""Mounts each domain's router under /api/v1, and the few a standard puts at the root."""

from fastapi import APIRouter

from app.core.registry import domain_modules

api_router = APIRouter(prefix="/api/v1")
# What must sit at the root by a standard's rule (RFC 8414's /.well-known/...).
root_router = APIRouter()
for module in domain_modules("router"):
    for attr in ("router", "users", "clients", "oauth"):
        r = getattr(module, attr, None)
        if isinstance(r, APIRouter):
            api_router.include_router(r)
    if isinstance(getattr(module, "root", None), APIRouter):
        root_router.include_router(module.root)
