from app.core.db import sessionmaker
from app.partners.models import WebhookDelivery, WebhookEndpoint
from app.partners.signing import new_secret
from tests.matrix_support import Row, World

API = "/api/v1"

# Managed by admins and by the owning API client; other roles may not (403); another
# facility's client cannot see it (404).
WEBHOOK = {
    "anonymous": 401,
    "admin": 200,
    "coordinator": 403,
    "clinician_a": 403,
    "clinician_b": 403,
    "specialist": 403,
    "interpreter": 403,
    "client_a": 200,
    "client_b": 404,
}


async def _webhook(w: World) -> WebhookEndpoint:
    client_a = w.users["client_a"]
    async with sessionmaker()() as s:
        ep = WebhookEndpoint(
            owner_kind="client",
            owner_id=client_a.id,
            organization_id=w.org_a.id,
            url="https://93.184.215.14/h",
            events=["case.closed"],
            secret=new_secret(),
        )
        s.add(ep)
        await s.commit()
        return ep


async def _delivery(w: World) -> tuple[WebhookEndpoint, WebhookDelivery]:
    ep = await _webhook(w)
    async with sessionmaker()() as s:
        d = WebhookDelivery(
            endpoint_id=ep.id,
            event_id=1,
            event_type="case.closed",
            payload={"type": "case.closed"},
            status="failed",
        )
        s.add(d)
        await s.commit()
        return ep, d


async def _get(w: World):
    return f"{API}/webhooks/{(await _webhook(w)).id}", None


async def _deliveries(w: World):
    return f"{API}/webhooks/{(await _webhook(w)).id}/deliveries", None


async def _rotate(w: World):
    return f"{API}/webhooks/{(await _webhook(w)).id}/rotate-secret", None


async def _retry(w: World):
    ep, d = await _delivery(w)
    return f"{API}/webhooks/{ep.id}/deliveries/{d.id}/retry", None


ROWS = [
    Row("GET", f"{API}/webhooks/{{webhook_id}}", _get, WEBHOOK),
    Row(
        "DELETE", f"{API}/webhooks/{{webhook_id}}", _get, {**WEBHOOK, "admin": 204, "client_a": 204}
    ),
    Row("GET", f"{API}/webhooks/{{webhook_id}}/deliveries", _deliveries, WEBHOOK),
    Row("POST", f"{API}/webhooks/{{webhook_id}}/rotate-secret", _rotate, WEBHOOK),
    Row(
        "POST",
        f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry",
        _retry,
        {**WEBHOOK, "admin": 202, "client_a": 202},
    ),
]
