"""A phone number is someone's only if they hold the phone: five wrong codes end the code,
however many guesses arrive at once. Before, on PostgreSQL guesses sent together each read
the same count of wrong ones and wrote it plus one, so a burst of guesses counted as one and
the code could be tried without end."""

import asyncio

from standardwebhooks.webhooks import Webhook

from app.core.config import get_settings
from app.notifications.devices import CODE_ATTEMPTS
from tests.notifications.support import API, send_all
from tests.specialists.support import make_specialist


async def test_guesses_sent_together_each_count(client, factory, sms_gateway, smtp):
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    r = await client.put(f"{API}/me/phone", json={"phone": "+254 712 345678"}, headers=h)
    assert r.status_code == 200, r.text
    await send_all()
    [(_, headers, body)] = sms_gateway.at("/sms")
    sms = Webhook(get_settings().sms_gateway_secret).verify(
        body, {k.lower(): v for k, v in headers.items()}
    )
    code = sms["text"][-6:]
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 2 * CODE_ATTEMPTS + 1)]
    rs = await asyncio.gather(
        *(client.post(f"{API}/me/phone/verify", json={"code": w}, headers=h) for w in wrong)
    )
    assert all(r.status_code == 422 for r in rs), [r.text for r in rs]
    # The code is spent now, the right one included: she sets the phone again for a new one.
    r = await client.post(f"{API}/me/phone/verify", json={"code": code}, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/invalid-code") and "Too many" in r.json()["detail"]
    r = await client.get(f"{API}/me/notification-preferences", headers=h)
    assert r.json()["phone_verified"] is False
