"""Webhook subscriptions: who owns them, who may see them, creating, rotating, retrying."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiClient
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role, RoleForbidden, Scope
from app.events.kinds import EventKind
from app.partners import feed, signing
from app.partners.models import (
    KEPT_ATTEMPTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.partners.urls import check_url

# Old and new secrets both sign for this long after a rotation.
ROTATION_GRACE = timedelta(hours=24)
# Secrets replaced within the grace kept besides the previous one (rotations retried).
OLDER_SECRETS_KEPT = 3


# The audit chain's signed head: the programme's staff hear of it, never a facility's app.
STAFF_ONLY_EVENT = EventKind.audit_checkpoint.value


class WebhookNotFound(NotFound):
    """No such webhook, or it is not the caller's."""


class DeliveryNotFound(NotFound):
    """No such delivery for this webhook."""


class WebhookDisabled(Conflict):
    """The webhook was disabled; create a new one to receive events again."""

    code = "webhook-disabled"


def may_manage(p: Principal) -> None:
    """Admins, and API clients holding webhooks:manage; no other role."""
    p.require_scope(Scope.webhooks_manage)
    if p.is_user and p.role is not Role.admin:
        raise RoleForbidden("Only admins and API clients manage webhooks.")


def _mine(p: Principal) -> ColumnElement[bool] | None:
    """Admins see every subscription; a client only its own."""
    if p.is_user and p.role is Role.admin:
        return None
    return col(WebhookEndpoint.owner_id) == p.id


async def create(
    session: AsyncSession, p: Principal, url: str, events: list[str], description: str | None
) -> WebhookEndpoint:
    may_manage(p)
    names = [str(e) for e in events]
    if not p.is_staff and STAFF_ONLY_EVENT in names:
        # Never sent to a facility's app (the audit chain is the programme's): said now,
        # not left waiting for an event that never comes.
        raise Unprocessable(
            f"{STAFF_ONLY_EVENT} goes to the programme's staff only.",
            errors=[
                {
                    "pointer": f"/events/{names.index(STAFF_ONLY_EVENT)}",
                    "detail": "staff only",
                    "code": "staff_only",
                }
            ],
        )
    if p.is_client:
        await _readable_by_the_app(session, p, names)
    await check_url(url, get_settings().webhook_allow_private)
    ep = WebhookEndpoint(
        owner_kind=p.kind.value,
        owner_id=p.id,
        organization_id=p.organization_id if p.is_client else None,
        url=url,
        events=sorted({str(e) for e in events}),  # enum members stored as their names' text
        description=description,
        secret=signing.new_secret(),
    )
    session.add(ep)
    await session.flush()
    return ep


async def _readable_by_the_app(session: AsyncSession, p: Principal, names: list[str]) -> None:
    """An app is sent only the events its scopes let it read (the fan-out's rule, under the
    app's scopes rather than this token's): one beyond them would be waited for in vain."""
    app = await session.get(ApiClient, p.id)
    held = set(app.scopes if app is not None else ())
    errors = [
        {
            "pointer": f"/events/{i}",
            "detail": f"{name} is sent to apps holding the {needed.value} scope",
            "code": "scope_not_granted",
        }
        for i, name in enumerate(names)
        if (needed := feed.scope_of(name)).value not in held
    ]
    if errors:
        raise Unprocessable(
            "This app's scopes do not let it read every event named.", errors=errors
        )


async def get(
    session: AsyncSession, p: Principal, webhook_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    """`lock`: the endpoint's row held to the commit, for a change made from what it holds
    now (a rotation keeps the secret it replaces: two at once must not both keep the same
    one, and lose the other's)."""
    may_manage(p)
    stmt = select(WebhookEndpoint).where(col(WebhookEndpoint.id) == webhook_id)
    mine = _mine(p)
    if mine is not None:
        stmt = stmt.where(mine)
    if lock:
        # FOR NO KEY UPDATE, as every hold here: deliveries referring to it go on.
        stmt = stmt.with_for_update(of=WebhookEndpoint, key_share=True).execution_options(
            populate_existing=True
        )
    ep = (await session.execute(stmt)).scalar_one_or_none()
    if ep is None:
        raise WebhookNotFound("No such webhook.")
    return ep


async def list_mine(
    session: AsyncSession, p: Principal, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    may_manage(p)
    stmt = select(WebhookEndpoint)
    mine = _mine(p)
    if mine is not None:
        stmt = stmt.where(mine)
    return await keyset_page(session, stmt, WebhookEndpoint.id, limit, cursor)


async def delete(session: AsyncSession, p: Principal, webhook_id: str) -> None:
    ep = await get(session, p, webhook_id)
    await session.delete(ep)
    await session.flush()


async def rotate_secret(session: AsyncSession, p: Principal, webhook_id: str) -> WebhookEndpoint:
    ep = await get(session, p, webhook_id, lock=True)
    now = utcnow()
    # Every secret replaced within the grace keeps signing until its own grace ends: a
    # rotation retried because its answer was lost leaves the receiver's secret working.
    older = [o for o in ep.older_secrets if datetime.fromisoformat(o["until"]) > now]
    if ep.previous_secret and ep.previous_secret_expires_at and ep.previous_secret_expires_at > now:
        older.append(
            {"secret": ep.previous_secret, "until": ep.previous_secret_expires_at.isoformat()}
        )
    # The newest few: each signs every delivery, and a receiver's header has a limit.
    ep.older_secrets = older[-OLDER_SECRETS_KEPT:]
    ep.previous_secret, ep.previous_secret_expires_at = ep.secret, now + ROTATION_GRACE
    ep.secret = signing.new_secret()
    ep.updated_at = now
    await session.flush()
    return ep


async def deliveries(
    session: AsyncSession,
    p: Principal,
    webhook_id: str,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    ep = await get(session, p, webhook_id)
    stmt = select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == ep.id)
    if status:
        stmt = stmt.where(col(WebhookDelivery.status) == status)
    return await keyset_page(session, stmt, WebhookDelivery.id, limit, cursor)


async def attempts_of(
    session: AsyncSession, delivery_ids: list[str]
) -> dict[str, list[WebhookAttempt]]:
    """Each delivery's latest KEPT_ATTEMPTS attempts, oldest first. The dispatcher lets
    older ones go as it writes new ones; a delivery that gathered more before it did (or
    that is tried no more) is cut here."""
    out: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        newest_first = (
            func.row_number()
            .over(
                partition_by=col(WebhookAttempt.delivery_id), order_by=col(WebhookAttempt.id).desc()
            )
            .label("n")
        )
        latest = (
            select(col(WebhookAttempt.id), newest_first)
            .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
            .subquery()
        )
        rows = await session.scalars(
            select(WebhookAttempt)
            .join(latest, latest.c.id == col(WebhookAttempt.id))
            .where(latest.c.n <= KEPT_ATTEMPTS)
            .order_by(col(WebhookAttempt.id))
        )
        for a in rows:
            out[a.delivery_id].append(a)
    return out


async def retry(
    session: AsyncSession, p: Principal, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    """Queue one delivery to be sent again now (whatever its state)."""
    ep = await get(session, p, webhook_id)
    if not ep.active:
        raise WebhookDisabled(f"The webhook was disabled: {ep.disabled_reason}.")
    d = (
        await session.execute(
            select(WebhookDelivery).where(
                col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.endpoint_id) == ep.id
            )
        )
    ).scalar_one_or_none()
    if d is None:
        raise DeliveryNotFound("No such delivery for this webhook.")
    now = utcnow()
    d.status, d.next_attempt_at, d.updated_at = DeliveryStatus.pending, now, now
    await session.flush()
    return d


def active_secrets(ep: WebhookEndpoint) -> list[str]:
    now = utcnow()
    keys = [ep.secret]
    if ep.previous_secret and ep.previous_secret_expires_at and ep.previous_secret_expires_at > now:
        keys.append(ep.previous_secret)
    keys += [
        o["secret"] for o in ep.older_secrets or [] if datetime.fromisoformat(o["until"]) > now
    ]
    return keys
