"""Web Push (pywebpush, VAPID). The payload is the notification's subject and link only."""

import json
from dataclasses import dataclass

from pywebpush import WebPushException, webpush_async

from app.core.config import get_settings
from app.notifications.channels.base import Outcome, Result


@dataclass
class Push:
    delivery_id: str
    title: str
    body: str
    url: str
    kind: str
    subscriptions: list[tuple[str, str, str, str]]  # (id, endpoint, p256dh, auth)


async def _one(p: Push, sub: tuple[str, str, str, str]) -> str:
    """'ok', 'gone' (the subscription expired) or an error for a retry."""
    s = get_settings()
    _, endpoint, p256dh, auth = sub
    try:
        await webpush_async(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps({"title": p.title, "body": p.body, "url": p.url, "kind": p.kind}),
            vapid_private_key=s.vapid_private_key,
            vapid_claims={"sub": s.vapid_subject},
            ttl=24 * 3600,
            timeout=10,
        )
    except WebPushException as e:
        status = getattr(e.response, "status", None) or getattr(e.response, "status_code", None)
        if status in (404, 410):
            return "gone"
        return f"push service: {status or e}"
    except Exception as e:  # unreachable endpoint, timeout
        return f"push: {e}"
    return "ok"


async def send(pushes: list[Push]) -> list[Result]:
    out = []
    for p in pushes:
        if not p.subscriptions or not get_settings().vapid_private_key:
            out.append(Result(p.delivery_id, Outcome.skipped, "no push subscription"))
            continue
        answers = [(sub[0], await _one(p, sub)) for sub in p.subscriptions]
        gone = tuple(sid for sid, a in answers if a == "gone")
        errors = [a for _, a in answers if a not in ("ok", "gone")]
        if any(a == "ok" for _, a in answers):
            out.append(Result(p.delivery_id, Outcome.sent, gone=gone))
        elif errors:
            out.append(Result(p.delivery_id, Outcome.retry, errors[0][:500], gone=gone))
        else:
            out.append(Result(p.delivery_id, Outcome.skipped, "subscriptions expired", gone=gone))
    return out
