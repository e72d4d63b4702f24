"""Operations at the root: health, readiness, Prometheus metrics, the audit log."""

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlmodel import col

from app.audit import checkpoints
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.core.config import get_settings
from app.core.db import get_engine, unit_of_work
from app.core.deps import AdminPrincipal, SessionDep
from app.core.errors import problem_responses
from app.core.migrations import schema_is_current
from app.core.observability import Figure, render_figures
from app.core.pagination import Cursor, Limit, Page, keyset_page
from app.core.registry import domain_modules
from app.core.routing import lenient_query, make_router
from app.core.schemas import ReadModel

ops_router = make_router(prefix="", tags=["operations"])
# The probes an orchestrator and Prometheus call: never rate limited (app.core.ratelimit).
PROBES = ("/healthz", "/readyz", "/metrics")
log = logging.getLogger("app.ops")


@ops_router.get("/healthz", summary="The process is up")
@lenient_query
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@ops_router.get(
    "/readyz",
    summary="Database reachable and schema at the migrations' head",
    responses={503: {"description": "Not ready"}},
)
@lenient_query
async def readyz(response: Response) -> dict[str, object]:
    checks: dict[str, object] = {}
    try:
        # Bounded: a database behind a cut link does not refuse, it stalls.
        async with asyncio.timeout(get_settings().ready_timeout_seconds):
            async with get_engine().connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            checks["migrations"] = "ok" if await schema_is_current(get_engine()) else "behind"
    except Exception:
        checks["database"] = "unreachable"
    ready = checks.get("database") == "ok" and checks.get("migrations") == "ok"
    response.status_code = 200 if ready else 503
    return {"status": "ready" if ready else "not ready", "checks": checks}


@ops_router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@lenient_query
async def metrics(request: Request) -> Response:
    """HTTP figures, and the domain's at scrape time: each `app/<domain>/metrics.py`
    reports its own (outbox lag, webhook backlog, pending offers, late cases, sockets)."""
    figures = [
        Figure(
            "consult_db_pool_in_use",
            "Database connections checked out of this process's pool.",
            _pool_in_use(),
        )
    ]
    failed = 0
    try:
        async with unit_of_work() as session:
            for module in domain_modules("metrics"):
                try:
                    figures += await module.figures(session, request.app.state)
                except Exception:
                    failed += 1
                    log.warning("metrics of %s failed", module.__name__, exc_info=True)
                    await session.rollback()
    except Exception:  # the database is down: the HTTP figures still answer
        failed += 1
        log.warning("metrics: no database session", exc_info=True)
    figures.append(
        Figure(
            "consult_metrics_collect_errors",
            "Domains whose figures could not be read at this scrape.",
            failed,
        )
    )
    return Response(generate_latest() + render_figures(figures), media_type=CONTENT_TYPE_LATEST)


def _pool_in_use() -> int:
    pool = get_engine().pool
    checked = getattr(pool, "checkedout", None)
    return int(checked()) if callable(checked) else 0


class AuditRead(ReadModel):
    id: int
    at: datetime
    actor_id: str | None
    actor_kind: str = Field(
        description="`user` or `client` (named by `actor_id`); `service` for what the service "
        "did on its own schedule (an offer lapsing, a case escalated); `anonymous` for a "
        "caller not signed in (an invitation accepted, a reset asked for)"
    )
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    ip: str | None
    detail: str | None
    # None only for an entry committed while the list was being sealed (PostgreSQL).
    prev_hash: str | None
    hash: str | None


class AuditVerification(BaseModel):
    valid: bool
    checked: int
    first_broken_id: int | None
    reason: Literal["altered", "unsealed", "differs-from-checkpoint", "truncated"] | None = Field(
        description="altered: a link or seal does not hold; unsealed: a sealed entry follows "
        "an unsealed one; differs-from-checkpoint: the entry a checkpoint names was changed "
        "(and sealed again); truncated: the entry a checkpoint names is gone."
    )


@ops_router.get(
    "/audit",
    response_model=Page[AuditRead],
    summary="Who read or changed what",
    responses=problem_responses(401, 403),
)
async def list_audit(
    session: SessionDep,
    p: AdminPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    resource_type: Annotated[str | None, Query(max_length=40)] = None,
    resource_id: Annotated[str | None, Query(max_length=40)] = None,
    actor_id: Annotated[str | None, Query(max_length=40)] = None,
) -> object:
    await audit.seal(session)  # entries are chained after commit: show them chained
    stmt = select(AuditEntry)
    if resource_type:
        stmt = stmt.where(col(AuditEntry.resource_type) == resource_type)
    if resource_id:
        stmt = stmt.where(col(AuditEntry.resource_id) == resource_id)
    if actor_id:
        stmt = stmt.where(col(AuditEntry.actor_id) == actor_id)
    items, nxt = await keyset_page(session, stmt, AuditEntry.id, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@ops_router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Check the hash chain; points at the first broken link",
    responses=problem_responses(401, 403, 422),
)
async def verify_audit(
    session: SessionDep,
    p: AdminPrincipal,
    checkpoint: Annotated[
        str | None,
        Query(
            max_length=200,
            # Stated for clients; refused by the service itself (422 invalid-checkpoint).
            json_schema_extra={"pattern": r"^\s*[0-9]+\.[0-9a-f]+\.[0-9a-f]+\s*$"},
            description="A checkpoint kept outside (the log, an `audit.checkpoint` webhook): "
            "the chain must still hold the entry it names, unchanged.",
        ),
    ] = None,
) -> object:
    return await checkpoints.verify(session, checkpoint)
