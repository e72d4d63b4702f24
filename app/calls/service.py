"""ICE servers for a caller: STUN as configured, TURN with credentials that expire.

The credentials follow the TURN REST API convention (draft-uberti-behave-turn-rest, what
coturn checks with `use-auth-secret`): username `<expiry unix time>:<user id>`, password
base64(HMAC-SHA1(TURN_SECRET, username)). The TURN server needs only the shared secret;
a leaked credential stops working at its expiry, and nothing is stored here.
"""

import base64
import hashlib
import hmac
from typing import Any

from app.core.clock import clock
from app.core.config import get_settings
from app.core.principal import Principal

TURN_SCHEMES = ("turn:", "turns:")


def turn_credentials(secret: str, user_id: str, ttl_seconds: int) -> tuple[str, str]:
    # Real seconds: the TURN server compares the expiry with its own clock.
    expiry = int(clock.wall()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def _urls(entry: str | dict[str, Any]) -> list[str]:
    if isinstance(entry, str):
        return [entry]
    urls = entry.get("urls", [])
    return [urls] if isinstance(urls, str) else [str(u) for u in urls]


def ice_servers(p: Principal) -> dict[str, Any]:
    s = get_settings()
    out: list[dict[str, Any]] = []
    ttl: int | None = None
    for entry in s.ice_servers:
        urls = _urls(entry)
        if not urls:
            continue
        server: dict[str, Any] = {"urls": urls}
        if isinstance(entry, dict):
            for key in ("username", "credential"):
                if entry.get(key):
                    server[key] = str(entry[key])
        if s.turn_secret and any(u.startswith(TURN_SCHEMES) for u in urls):
            server["username"], server["credential"] = turn_credentials(
                s.turn_secret, p.id, s.turn_ttl_seconds
            )
            ttl = s.turn_ttl_seconds
        out.append(server)
    return {"ice_servers": out, "ttl_seconds": ttl}
