"""API clients: partner apps registered by an admin, each with scopes and a secret shown
once."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import SCOPES, ApiClient
from app.core.clock import utcnow
from app.core.db import new_id
from app.core.errors import NotFound, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal
from app.core.security import hash_secret, new_secret
from app.events import service as events
from app.events.models import SESSION_ENDED
from app.organizations.models import Organization


async def create_api_client(
    session: AsyncSession, actor: Principal, data: dict[str, Any]
) -> tuple[ApiClient, str]:
    data["scopes"] = [str(s) for s in data["scopes"]]
    bad = [s for s in data["scopes"] if s not in SCOPES]
    if bad:
        raise Unprocessable(
            f"Unknown scope(s): {', '.join(bad)}",
            errors=[{"pointer": "/scopes", "detail": f"allowed: {SCOPES}"}],
        )
    if await session.get(Organization, data["organization_id"]) is None:
        raise Unprocessable(
            "No such organization.",
            errors=[{"pointer": "/organization_id", "detail": "unknown", "code": "not_found"}],
        )
    secret = new_secret("cs_")
    client = ApiClient(
        client_id=new_id("ci"),
        secret_hash=hash_secret(secret),
        name=data["name"],
        organization_id=data["organization_id"],
        scopes=sorted(set(data["scopes"])),
    )
    session.add(client)
    await session.flush()
    await audit.append(session, actor, "api_client.create", "api_client", client.id)
    return client, secret


async def list_api_clients(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[ApiClient], str | None]:
    return await keyset_page(session, select(ApiClient), ApiClient.id, limit, cursor)


class ApiClientNotFound(NotFound):
    """No such API client (404 as for any object)."""


async def _locked(session: AsyncSession, client_id: str) -> ApiClient:
    client = await session.get(ApiClient, client_id, with_for_update=True)
    if client is None:
        raise ApiClientNotFound("No such API client.")
    return client


async def _tokens_ended(session: AsyncSession, client: ApiClient) -> None:
    """Every access token the client holds is refused from now on: each request compares
    the token's `tv` with the row's (app.core.deps); its open sockets check theirs again
    once this commits (app/realtime/hub.py)."""
    client.token_version += 1
    await events.emit(session, SESSION_ENDED, "api_client", client.id)


async def set_active(
    session: AsyncSession, actor: Principal, client_id: str, active: bool
) -> ApiClient:
    """Switch a partner app off (a leaked secret, an app retired) or on again. Off, every
    token it holds is refused at once: each request reads the client's row. On again, the
    tokens from before stay refused (their version is gone): it takes new ones."""
    client = await _locked(session, client_id)
    if client.active != active:
        client.active = active
        if not active:
            await _tokens_ended(session, client)
        client.updated_at = utcnow()
        await session.flush()
        await audit.append(
            session,
            actor,
            "api_client.update",
            "api_client",
            client.id,
            detail=f"active={str(active).lower()}",
        )
    return client


async def rotate_secret(
    session: AsyncSession, actor: Principal, client_id: str
) -> tuple[ApiClient, str]:
    """A new secret for the same client (its webhooks, feed cursor and audit identity
    kept), shown once: the old secret is refused at once, and so is every access token
    the client holds. A switched-off client stays off."""
    client = await _locked(session, client_id)
    secret = new_secret("cs_")
    client.secret_hash = hash_secret(secret)
    await _tokens_ended(session, client)
    client.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session, actor, "api_client.update", "api_client", client.id, detail="secret=rotated"
    )
    return client, secret
