"""Mounts each domain's router under /api/v1; nothing else."""

from fastapi import APIRouter

from app.core.registry import domain_modules

api_router = APIRouter(prefix="/api/v1")
for module in domain_modules("router"):
    for attr in ("router", "users", "clients"):
        r = getattr(module, attr, None)
        if isinstance(r, APIRouter):
            api_router.include_router(r)
