"""The delivery log says what each attempt met as a code (`last_outcome`, an attempt's
`outcome`), read from what the dispatcher records, so a client can say it in words; the raw
record stays beside it. Before, the console could only show the raw record
("ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]...")."""

import asyncio
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.config import get_settings
from app.core.errors import AppError
from app.partners.outcomes import Outcome, classify
from app.partners.urls import check_url
from tests.partners.helpers import commit_event, dispatch, subscribe
from tests.partners.reserved_names import invalid_names_never_resolve
from tests.partners.support import API

CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
SSL_SELF_SIGNED = (
    "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "self-signed certificate (_ssl.c:1006)"
)


@pytest.mark.parametrize(
    ("status_code", "error", "outcome"),
    [
        (None, SSL_SELF_SIGNED, "certificate"),
        (None, "ConnectError: [SSL: WRONG_VERSION_NUMBER] wrong version number", "tls"),
        (None, "ConnectError: All connection attempts failed", "refused"),
        (None, "ConnectError: [Errno 111] Connection refused", "refused"),
        (None, "connection refused", "refused"),  # as an older record may say it
        (None, "ConnectError: [Errno -2] Name or service not known", "unresolvable"),
        (None, "ConnectTimeout: ", "timeout"),
        (None, "ReadTimeout: ", "timeout"),
        (
            None,
            "RemoteProtocolError: Server disconnected without sending a response.",
            "connection_lost",
        ),
        (None, "ReadError: ", "connection_lost"),
        (None, "ConnectError: ", "connect_failed"),
        (None, "ConnectError: evil.example is not the checked webhook host", "connect_failed"),
        (None, "something else entirely", "failed"),
        (500, "HTTP 500", "http_error"),
        (429, "HTTP 429", "http_error"),
        (301, "HTTP 301: redirects are not followed", "redirect"),
        (410, "HTTP 410", "gone"),
        (204, None, "delivered"),
        (None, None, None),  # not tried yet
    ],
)
def test_what_the_dispatcher_records_is_classified(status_code, error, outcome):
    assert classify(status_code, error) == outcome


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "https://hooks.invalid/hook",
        "https://10.0.0.5/hook",
        "https://me:pw@example.org/hook",
        "https:///hook",
    ],
)
async def test_a_url_refused_at_sending_time_is_named_so(monkeypatch, url):
    # What the dispatcher records when the URL no longer passes the rule: the refusal's detail.
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    invalid_names_never_resolve(monkeypatch)
    with pytest.raises(AppError) as refused:
        await check_url(url, False)
    assert classify(None, refused.value.detail) == "unsafe_url"


# The console says these by the answer's HTTP status, or (tls) as `connect_failed`, or (failed:
# nothing more is known) as the raw record; every other outcome has its words.
SAID_OTHERWISE = {"delivered", "http_error", "redirect", "gone", "tls", "failed"}


def test_every_outcome_has_words_in_every_language():
    named = {f"webhooks.outcome.{c}" for c in set(get_args(Outcome)) - SAID_OTHERWISE}
    for lang in ("en", "es", "fr"):
        words = json.loads((CATALOGUE / f"{lang}.json").read_text())
        assert named <= set(words), lang


def _self_signed(tmp: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return ctx


@pytest.fixture
async def untrusted(tmp_path: Path) -> AsyncIterator[str]:
    """An https receiver on 127.0.0.1 whose certificate nobody trusts (self-signed)."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=_self_signed(tmp_path))
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/hook"
    finally:
        server.close()


async def test_the_log_says_what_each_attempt_met(client, factory, receiver, http, untrusted):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    tls = await subscribe(client, h, untrusted, ["case.closed"])
    erring = await subscribe(client, h, receiver.url, ["case.closed"])
    receiver.answers.append((500, {}))
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)

    def log(hook: dict) -> dict:
        return dict(d.json()["items"][0]) if (d := delivered[hook["id"]]) else {}

    delivered = {
        w["id"]: await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)
        for w in (tls, erring)
    }
    d = log(tls)
    assert d["status"] == "pending" and d["last_outcome"] == "certificate", d
    assert "CERTIFICATE_VERIFY_FAILED" in d["last_error"]  # the raw record stays
    assert [a["outcome"] for a in d["attempt_log"]] == ["certificate"]
    assert d["next_attempt_at"]
    d = log(erring)
    assert (d["last_outcome"], d["last_status_code"]) == ("http_error", 500), d
    assert [a["outcome"] for a in d["attempt_log"]] == ["http_error"]

    # Sending it again answers the delivery as it now is: queued, due now, same last answer.
    r = await client.post(
        f"{API}/webhooks/{tls['id']}/deliveries/{log(tls)['id']}/retry", headers=h
    )
    assert r.status_code == 202
    assert (r.json()["status"], r.json()["last_outcome"]) == ("pending", "certificate")
