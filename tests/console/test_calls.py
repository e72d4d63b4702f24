"""GET /api/v1/rtc/ice-servers: STUN as configured, TURN with expiring HMAC credentials."""

import base64
import hashlib
import hmac

from app.core.config import get_settings
from app.core.principal import Role


async def test_ice_servers_need_a_token(client):
    assert (await client.get("/api/v1/rtc/ice-servers")).status_code == 401


async def test_turn_entries_get_short_lived_credentials_from_the_shared_secret(
    client, factory, monkeypatch
):
    s = get_settings()
    monkeypatch.setattr(
        s,
        "ice_servers",
        [
            "stun:stun.example.org:3478",
            {"urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]},
        ],
    )
    monkeypatch.setattr(s, "turn_secret", "shared-turn-secret")
    monkeypatch.setattr(s, "turn_ttl_seconds", 600)
    user = await factory.make_user(Role.specialist)
    r = await client.get("/api/v1/rtc/ice-servers", headers=factory.headers(user))
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    stun, turn = body["iceServers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expiry, who = turn["username"].split(":")
    assert who == user.id
    from app.core.clock import clock

    assert 0 < int(expiry) - clock.wall() <= 600
    expected = hmac.new(b"shared-turn-secret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    assert body["ttl_seconds"] == 600


async def test_without_a_secret_servers_go_as_configured(client, factory, monkeypatch):
    s = get_settings()
    monkeypatch.setattr(
        s, "ice_servers", [{"urls": "turn:turn.example.org", "username": "u", "credential": "c"}]
    )
    monkeypatch.setattr(s, "turn_secret", None)
    user = await factory.make_user(Role.clinician)
    body = (await client.get("/api/v1/rtc/ice-servers", headers=factory.headers(user))).json()
    assert body == {
        "iceServers": [{"urls": ["turn:turn.example.org"], "username": "u", "credential": "c"}]
    }
