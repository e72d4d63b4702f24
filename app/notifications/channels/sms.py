"""SMS or WhatsApp through one provider-neutral gateway: a JSON POST to SMS_GATEWAY_URL,
signed as Standard Webhooks are (webhook-id, webhook-timestamp, webhook-signature with
SMS_GATEWAY_SECRET), so a clinic plugs in whichever provider works in its country.

Body: {"id", "to" (E.164), "text", "kind"}. 2xx is sent; 408, 429 and 5xx are tried again
(with the same webhook-id, for the gateway to drop a duplicate); other 4xx are permanent."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from app.core.clock import clock
from app.core.config import get_settings
from app.notifications.channels.base import Outcome, Result


@dataclass
class Sms:
    delivery_id: str
    message_id: str
    to: str
    text: str
    kind: str


def signed(sms: Sms, secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"id": sms.message_id, "to": sms.to, "text": sms.text, "kind": sms.kind},
        separators=(",", ":"),
    )
    # Partners check the timestamp against their own clock: the real one (clock.wall).
    ts = datetime.fromtimestamp(int(clock.wall()), UTC)
    # A `whsec_<base64>` secret as Standard Webhooks issue them, or any string used as is.
    wh = Webhook(secret if secret.startswith("whsec_") else secret.encode())
    return body.encode(), {
        "content-type": "application/json",
        "webhook-id": sms.message_id,
        "webhook-timestamp": str(int(ts.timestamp())),
        "webhook-signature": wh.sign(sms.message_id, ts, body),
    }


async def send(messages: list[Sms]) -> list[Result]:
    s = get_settings()
    if not messages:
        return []
    if not s.sms_gateway_url or not s.sms_gateway_secret:
        return [Result(m.delivery_id, Outcome.skipped, "no SMS gateway") for m in messages]
    out = []
    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as http:
        for m in messages:
            body, headers = signed(m, s.sms_gateway_secret)
            try:
                r = await http.post(s.sms_gateway_url, content=body, headers=headers)
            except httpx.HTTPError as e:
                out.append(Result(m.delivery_id, Outcome.retry, f"gateway: {e!r}"[:500]))
                continue
            if r.is_success:
                out.append(Result(m.delivery_id, Outcome.sent))
            elif r.status_code in (408, 429) or r.status_code >= 500:
                out.append(Result(m.delivery_id, Outcome.retry, f"gateway {r.status_code}"))
            else:
                out.append(Result(m.delivery_id, Outcome.failed, f"gateway {r.status_code}"))
    return out
