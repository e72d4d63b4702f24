"""The console's own HTTP surface, without a browser: pages and their headers, static files,
the session cookies and their CSRF protection, the language choice, the catalogues."""

import json
import re
from pathlib import Path

import pytest

from app.console import assets
from app.console.pages import PAGES
from app.core.i18n import LANGUAGES, catalogue, catalogue_json
from app.core.principal import Role
from app.matching.scoring import WEIGHTS

SAME = {"origin": "https://testserver", "sec-fetch-site": "same-origin"}
CONSOLE = Path(__file__).resolve().parents[2] / "app" / "console"
CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"


@pytest.fixture
async def client(app):
    """Over https: the session cookies are Secure, and a client keeps them only there."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


async def _user(factory, role=Role.clinician):
    org = await factory.make_org()
    return await factory.make_user(role, organization_id=org.id, password="a-long-password-1")


async def _sign_in(client, user, headers=SAME):
    return await client.post(
        "/session", json={"email": user.email, "password": "a-long-password-1"}, headers=headers
    )


@pytest.mark.parametrize("name,path,_", PAGES)
async def test_every_page_is_served_with_a_strict_policy(client, name, path, _):
    r = await client.get(
        path.format(
            token="t0k",
            case_id="c1",
            note_id="n1",
            round_id="r1",
            offer_id="o1",
            follow_up_id="f1",
        )
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    # No inline script: every <script> either loads a same-origin file or is inert data.
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert f'data-page="{name}"' in r.text
    assert "style=" not in r.text  # no inline style either (style-src 'self')


async def test_pages_are_gzipped_and_static_files_cached_for_good(client):
    r = await client.get("/signin", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert assets.url("js/app.js") in r.text  # httpx has inflated it
    url = assets.url("js/core.js")
    s = await client.get(url, headers={"accept-encoding": "gzip"})
    assert s.status_code == 200 and s.headers["content-type"].startswith("text/javascript")
    assert s.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert s.headers["content-encoding"] == "gzip"
    again = await client.get(url, headers={"if-none-match": s.headers["etag"]})
    assert again.status_code == 304
    stale = await client.get("/static/000000000000/js/core.js")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    escape = await client.get(f"/static/{assets.version()}/%2E%2E/pages.py")
    assert escape.status_code == 404
    assert (await client.get(f"/static/{assets.version()}/nothing.js")).status_code == 404


async def test_sign_in_keeps_the_refresh_token_out_of_reach_of_page_script(client, factory):
    user = await _user(factory)
    r = await _sign_in(client, user)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh token
    cookies = {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}
    refresh = cookies["console_refresh"].lower()
    assert "httponly" in refresh and "secure" in refresh and "samesite=strict" in refresh
    assert "path=/session" in refresh
    csrf = cookies["console_csrf"].lower()
    assert "httponly" not in csrf and "secure" in csrf and "samesite=strict" in csrf
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user.id


async def test_a_wrong_password_or_another_site_gets_no_session(client, factory):
    user = await _user(factory)
    bad = await client.post(
        "/session", json={"email": user.email, "password": "wrong-password-9"}, headers=SAME
    )
    assert bad.status_code == 400 and "set-cookie" not in bad.headers
    forged = await _sign_in(
        client, user, {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    )
    assert forged.status_code == 403 and forged.json()["type"].endswith("/csrf")
    assert "set-cookie" not in forged.headers


async def test_refresh_needs_the_csrf_token_and_rotates_the_cookie(client, factory):
    user = await _user(factory)
    await _sign_in(client, user)
    csrf = client.cookies.get("console_csrf")
    old_refresh = client.cookies.get("console_refresh")
    # The cookie alone (what a forged form would carry) is refused.
    assert (await client.post("/session/refresh", headers=SAME)).status_code == 403
    cross = {"origin": "https://evil.example", "sec-fetch-site": "cross-site", "x-csrf-token": csrf}
    assert (await client.post("/session/refresh", headers=cross)).status_code == 403
    r = await client.post("/session/refresh", headers={**SAME, "x-csrf-token": csrf})
    assert r.status_code == 200 and "access_token" in r.json()
    assert client.cookies.get("console_refresh") != old_refresh
    # The CSRF token is bound to the session: the old one no longer matches the new cookie.
    stale = await client.post("/session/refresh", headers={**SAME, "x-csrf-token": csrf})
    assert stale.status_code == 403
    fresh = client.cookies.get("console_csrf")
    assert (
        await client.post("/session/refresh", headers={**SAME, "x-csrf-token": fresh})
    ).status_code == 200


async def test_sign_out_ends_the_session_for_good(client, factory):
    user = await _user(factory)
    await _sign_in(client, user)
    refresh = client.cookies.get("console_refresh")
    csrf = client.cookies.get("console_csrf")
    r = await client.post("/session/end", headers={**SAME, "x-csrf-token": csrf})
    assert r.status_code == 204
    # Even a copy of the cookie taken before sign-out is dead.
    client.cookies.set("console_refresh", refresh, path="/session")
    client.cookies.set("console_csrf", csrf)
    again = await client.post("/session/refresh", headers={**SAME, "x-csrf-token": csrf})
    assert again.status_code == 401 and again.json()["type"].endswith("/not-signed-in")


async def test_without_a_session_refresh_is_401(client):
    r = await client.post("/session/refresh", headers={**SAME, "x-csrf-token": "x"})
    assert r.status_code == 401


async def test_the_language_is_chosen_by_link_then_by_the_browser(client):
    r = await client.get("/signin", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in r.text and "Connexion" in r.text
    pick = await client.get("/lang/es?next=/cases", follow_redirects=False)
    assert pick.status_code == 303 and pick.headers["location"] == "/cases"
    r = await client.get("/signin", headers={"accept-language": "fr"})
    assert '<html lang="es">' in r.text and "Iniciar sesión" in r.text
    # `next` never leaves the site.
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        away = await client.get(f"/lang/en?next={target}", follow_redirects=False)
        assert away.headers["location"] == "/"


def test_every_message_exists_in_every_language():
    keys = {lang: set(json.loads((CATALOGUE / f"{lang}.json").read_text())) for lang in LANGUAGES}
    assert keys["es"] == keys["en"] and keys["fr"] == keys["en"]
    used = set()
    for path in [*CONSOLE.glob("templates/**/*.html"), *CONSOLE.glob("static/js/**/*.js")]:
        used |= set(
            re.findall(r"""\bt\(['`]([a-z_]+\.[a-z_0-9.]+|yes|no|saved)['`]""", path.read_text())
        )
    assert used - keys["en"] == set()


def test_the_catalogue_cannot_close_its_script_element():
    assert "</" not in catalogue_json("en")


async def test_a_page_itself_weighs_little(client):
    r = await client.get("/cases/new", headers={"accept-encoding": "gzip"})
    # The document alone, as sent; the whole cold load is measured in the browser tests.
    assert int(r.headers["content-length"]) < 12_000


def test_every_part_of_a_candidates_score_is_named_in_every_language():
    # "responsiveness" and "fairness" once showed as the codes in the candidates' table.
    for lang in LANGUAGES:
        named = json.loads((CATALOGUE / f"{lang}.json").read_text())
        assert {f"part.{k}" for k in [*WEIGHTS, "specialty"]} <= set(named), lang


async def test_the_messages_are_a_file_the_browser_keeps(client):
    # Each page names its language's catalogue by a digest of it; the file is kept for good
    # (a changed catalogue gets a new name), so a page no longer carries it each time.
    r = await client.get("/cases/new", headers={"cookie": "console_lang=es"})
    url = re.search(r'<link rel="preload" href="(/i18n/[^"]+/es\.json)"', r.text)
    assert url, r.text[:600]
    r = await client.get(url.group(1), headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.json()["action.invite"] == catalogue("es")["action.invite"]
    r = await client.get(url.group(1).replace("/es.json", "/xx.json"))
    assert r.status_code == 404
