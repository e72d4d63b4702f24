"""Webhooks and the changes feed (thin: parse, authorise, one service call). The FHIR
surface is app/fhir."""

from typing import Annotated, Any, Literal

from fastapi import Query, Response, status

from app.core.conditional import CONDITIONAL_READ
from app.core.deps import CurrentPrincipal, SessionDep, WebhooksManage
from app.core.errors import BadRequest, problem_responses
from app.core.pagination import (
    CURSOR_PATTERN,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
)
from app.core.principal import Principal
from app.core.routing import autocommit, make_router
from app.partners import feed, service
from app.partners.models import KEPT_ATTEMPTS
from app.partners.schemas import (
    AttemptRead,
    ChangesPage,
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookWithSecret,
)

router = make_router()


# ----------------------------------------------------------------------------- webhooks


@router.post(
    "/webhooks",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    tags=["partners"],
    summary="Subscribe a URL to events (the secret is shown once)",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_webhook(
    body: WebhookCreate, session: SessionDep, p: WebhooksManage, response: Response
) -> object:
    ep = await service.create(session, p, body.url, list(body.events), body.description)
    response.headers["Location"] = f"/api/v1/webhooks/{ep.id}"
    return ep


@router.get(
    "/webhooks",
    response_model=Page[WebhookRead],
    tags=["partners"],
    summary="Your webhook subscriptions (an admin sees all)",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_webhooks(
    session: SessionDep, p: WebhooksManage, limit: Limit = 50, cursor: Cursor = None
) -> object:
    items, nxt = await service.list_mine(session, p, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    tags=["partners"],
    summary="One webhook subscription",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_webhook(webhook_id: str, session: SessionDep, p: WebhooksManage) -> object:
    return await service.get(session, p, webhook_id)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["partners"],
    summary="Unsubscribe (pending deliveries are dropped)",
    responses=problem_responses(401, 403, 404),
)
async def delete_webhook(webhook_id: str, session: SessionDep, p: WebhooksManage) -> Response:
    await service.delete(session, p, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    tags=["partners"],
    summary="New signing secret; the old one keeps signing for 24 h beside it",
    responses=problem_responses(401, 403, 404, 409),
)
async def rotate_secret(webhook_id: str, session: SessionDep, p: WebhooksManage) -> object:
    return await service.rotate_secret(session, p, webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    tags=["partners"],
    summary=f"The delivery log, newest first, with each delivery's latest {KEPT_ATTEMPTS} attempts",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    p: WebhooksManage,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
) -> object:
    items, nxt = await service.deliveries(session, p, webhook_id, status, limit, cursor)
    logs = await service.attempts_of(session, [d.id for d in items])
    return {
        "items": [
            DeliveryRead.model_validate(d).model_copy(
                update={"attempt_log": [AttemptRead.model_validate(a) for a in logs[d.id]]}
            )
            for d in items
        ],
        "next_cursor": nxt,
    }


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["partners"],
    summary="Send one delivery again now",
    responses=problem_responses(401, 403, 404, 409),
)
async def retry_delivery(
    webhook_id: str, delivery_id: str, session: SessionDep, p: WebhooksManage
) -> object:
    return await service.retry(session, p, webhook_id, delivery_id)


# ----------------------------------------------------------------------------- changes


@router.get(
    "/changes",
    response_model=ChangesPage,
    tags=["partners"],
    summary="Every change you may see, oldest first, resumable from a cursor",
    responses=problem_responses(400, 401, 403),
)
@autocommit
async def changes(
    session: SessionDep,
    p: CurrentPrincipal,
    since: Annotated[
        str | None,
        Query(
            max_length=500,
            description="`next_cursor` of the previous page; omit to start from the beginning.",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> object:
    if cursor is not None:
        # Every other list pages on `cursor`: read silently here, it gave the first page
        # again and again, and an app following it would never move on.
        raise BadRequest(
            "The changes feed resumes from `since` (the previous page's `next_cursor`), "
            "not `cursor`.",
            code="use-since",
        )
    bound = feed.reach(p)
    after = _position(since, p, bound)
    items, position, more = await feed.changes(session, p, after, limit)
    at = {"p": position, "w": p.id, **bound}
    return {"items": items, "has_more": more, "next_cursor": encode_cursor(at, "change")}


def _position(since: str | None, p: Principal, bound: dict[str, Any]) -> int:
    if not since:  # `?since=` (empty) starts from the beginning, as every list's first page
        return 0
    value = decode_cursor(since, "change")
    if not isinstance(value, dict) or not isinstance(value.get("p"), int) or value.get("w") != p.id:
        raise BadRequest(
            "The cursor is invalid or was issued to someone else.", code="invalid-cursor"
        )
    # A cursor is a position in what the caller could see: one read under a narrower reach
    # has moved past changes the caller may see now, and resuming from it would lose them.
    if why := feed.reach_lost(bound, value):
        raise BadRequest(
            f"{why}: it has passed changes you were never served. Read the feed again from "
            "the start (without `since`) to have them.",
            code="cursor-reach-changed" if "r" in bound else "cursor-scope-widened",
        )
    return int(value["p"])
