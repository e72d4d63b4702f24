"""Web Push to a local push endpoint and the SMS gateway (a signed JSON POST), both real
HTTP servers on 127.0.0.1; a phone is verified by a code the gateway carried."""

import base64
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from standardwebhooks.webhooks import Webhook

from app.core.config import get_settings
from app.core.principal import Role
from tests.notifications.support import API, deliveries, send_all
from tests.specialists.support import make_specialist


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def vapid(monkeypatch):
    v = Vapid02()
    v.generate_keys()
    raw = v.private_key.private_numbers().private_value.to_bytes(32, "big")
    monkeypatch.setattr(get_settings(), "vapid_private_key", _b64(raw))
    monkeypatch.setattr(get_settings(), "vapid_subject", "mailto:ops@example.org")
    return v


class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)},
            "expirationTime": None,
        }

    def read(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


async def _offer(client, factory, spec):
    org = await factory.make_org(country="PE")
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id, languages=["en"], urgency="urgent")
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"specialist_ids": [spec.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    return case, r.json()["items"][0]


async def test_an_offer_is_pushed_and_an_expired_subscription_removed(
    client, factory, http_sink, vapid, smtp
):
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    browser = Browser(f"{http_sink.base}/push/device-1")
    r = await client.post(f"{API}/me/push-subscriptions", json=browser.subscription(), headers=h)
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    case, offer = await _offer(client, factory, spec)
    await send_all()
    [(_, headers, body)] = http_sink.at("/push/device-1")
    assert headers["Authorization"].startswith("vapid t=")
    shown = browser.read(body)
    assert shown["url"] == f"https://consult.example.org/offers/{offer['id']}"
    assert shown["kind"] == "offer" and "urgent" in shown["title"]
    assert case.patient_reference not in json.dumps(shown) and case.question not in json.dumps(
        shown
    )
    [push] = await deliveries(user_id=spec.id, channel="push")
    assert push.status == "sent"

    http_sink.status["/push/device-1"] = 410  # the browser unsubscribed
    await _offer(client, factory, spec)
    await send_all()
    pushes = await deliveries(user_id=spec.id, channel="push")
    assert pushes[-1].status == "skipped"
    r = await client.delete(f"{API}/me/push-subscriptions/{sub_id}", headers=h)
    assert r.status_code == 404  # removed when the push service said it was gone
    await _offer(client, factory, spec)
    assert len(await deliveries(user_id=spec.id, channel="push")) == 2  # none written now


async def test_push_subscriptions_are_ones_own(client, factory, http_sink, vapid):
    a, b = await make_specialist(factory), await make_specialist(factory)
    r = await client.post(
        f"{API}/me/push-subscriptions",
        json=Browser(f"{http_sink.base}/push/x").subscription(),
        headers=factory.headers(a),
    )
    sub = r.json()["id"]
    assert (
        await client.delete(f"{API}/me/push-subscriptions/{sub}", headers=factory.headers(b))
    ).status_code == 404
    assert (
        await client.delete(f"{API}/me/push-subscriptions/{sub}", headers=factory.headers(a))
    ).status_code == 204
    bad = Browser("ftp://example.org/x").subscription()
    r = await client.post(f"{API}/me/push-subscriptions", json=bad, headers=factory.headers(a))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/endpoint"


def _verify(secret: str, headers: dict, body: bytes) -> dict:
    wh = Webhook(secret)
    return wh.verify(body, {k.lower(): v for k, v in headers.items()})


async def test_a_phone_verified_by_a_code_then_offers_by_signed_sms(
    client, factory, sms_gateway, smtp
):
    secret = get_settings().sms_gateway_secret
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    r = await client.put(f"{API}/me/phone", json={"phone": "+254 712 345678"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "+254712345678" and r.json()["phone_verified"] is False
    await send_all()
    [(_, headers, body)] = sms_gateway.at("/sms")
    sms = _verify(secret, headers, body)
    assert sms["to"] == "+254712345678" and headers["webhook-id"] == sms["id"]
    code = sms["text"][-6:]
    r = await client.post(
        f"{API}/me/phone/verify", json={"code": f"{(int(code) + 1) % 10**6:06d}"}, headers=h
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-code")
    r = await client.post(f"{API}/me/phone/verify", json={"code": code}, headers=h)
    assert r.status_code == 200 and r.json()["phone_verified"] is True

    case, offer = await _offer(client, factory, spec)
    await send_all()
    (_, headers, body) = sms_gateway.at("/sms")[-1]
    sms = _verify(secret, headers, body)
    assert sms["kind"] == "offer" and sms["to"] == "+254712345678"
    assert offer["id"] in sms["text"] and case.patient_reference not in sms["text"]


async def test_the_gateway_failing_is_retried_or_failed(client, factory, sms_gateway, smtp, clock):
    from datetime import timedelta

    spec = await make_specialist(factory)
    h = factory.headers(spec)
    sms_gateway.status["/sms"] = 503
    await client.put(f"{API}/me/phone", json={"phone": "+51987654321"}, headers=h)
    await send_all()
    [d] = await deliveries(user_id=spec.id, channel="sms")
    assert (d.status, d.attempts) == ("pending", 1)
    sms_gateway.status["/sms"] = 400
    clock.advance(timedelta(seconds=31))
    await send_all()
    [d] = await deliveries(user_id=spec.id, channel="sms")
    assert (d.status, d.attempts) == ("failed", 2)
    ids = {r[1]["webhook-id"] for r in sms_gateway.at("/sms")}
    assert ids == {d.message_id}  # the same id on the retry, for the gateway to dedupe


async def test_phone_needs_a_gateway_and_e164(client, factory, monkeypatch, sms_gateway):
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    r = await client.put(f"{API}/me/phone", json={"phone": "0712 345678"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/phone"
    monkeypatch.setattr(get_settings(), "sms_gateway_url", None)
    r = await client.put(f"{API}/me/phone", json={"phone": "+254712345678"}, headers=h)
    assert r.status_code == 409 and r.json()["type"].endswith("/no-sms-gateway")


async def test_a_push_endpoint_the_url_rule_refuses_keeps_its_code(client, factory, monkeypatch):
    # The production rule (https, public addresses): a client says the refusal in its words.
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    a = await factory.make_user(Role.specialist)
    bad = Browser("http://127.0.0.1:9/push").subscription()
    r = await client.post(f"{API}/me/push-subscriptions", json=bad, headers=factory.headers(a))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"pointer": "/endpoint", "detail": "The URL must use https.", "code": "https_required"}
    ]
