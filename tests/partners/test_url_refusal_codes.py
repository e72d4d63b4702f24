"""A refused webhook URL says why for programs too: `errors[].code` beside the problem's
unchanged status, type and detail (partners rely on those), so the console (or a partner's
app) says it in its own words. Before, the only reason was the English detail, which the
console repeated twice and in English on a Spanish page."""

import json
from pathlib import Path

import pytest

from app.core.config import get_settings
from app.core.principal import Role
from app.partners.urls import REFUSALS
from tests.partners.reserved_names import invalid_names_never_resolve
from tests.partners.support import API

CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"


@pytest.fixture
async def strict(monkeypatch):
    """The production rule (https, public addresses); `.invalid` names answered here."""
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    invalid_names_never_resolve(monkeypatch)


@pytest.mark.parametrize(
    ("url", "code", "detail"),
    [
        ("http://127.0.0.1:9000/hook", "https_required", "The URL must use https."),
        ("ftp://example.org/hook", "https_required", "The URL must be an absolute https URL."),
        ("https:///hook", "url_malformed", "The URL must be an absolute https URL."),
        ("https://[::1/hook", "url_malformed", "The URL is malformed: Invalid IPv6 URL."),
        (
            "https://me:pw@example.org/hook",
            "url_credentials",
            "The URL must not carry credentials.",
        ),
        (
            "https://hooks.invalid/hook",
            "host_unresolvable",
            "The host hooks.invalid does not resolve.",
        ),
        (
            "https://10.0.0.5/hook",
            "private_address",
            "The host 10.0.0.5 resolves to a non-public address (10.0.0.5); "
            "webhooks go only to public addresses.",
        ),
        (
            "https://localhost/hook",
            "private_address",
            None,  # the loopback addresses this machine's /etc/hosts gives
        ),
    ],
)
async def test_each_refusal_names_its_reason_by_code(client, factory, strict, url, code, detail):
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(admin),
        json={"url": url, "events": ["case.submitted"]},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/unsafe-webhook-url")
    if detail is not None:
        assert problem["detail"] == detail
    assert problem["errors"] == [{"pointer": "/url", "detail": problem["detail"], "code": code}]
    assert code in REFUSALS


def test_every_reason_has_words_in_every_language():
    for lang in ("en", "es", "fr"):
        words = json.loads((CATALOGUE / f"{lang}.json").read_text())
        assert {f"invalid.{c}" for c in REFUSALS} <= set(words), lang
