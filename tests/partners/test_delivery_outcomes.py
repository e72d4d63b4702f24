"""The delivery log says what each attempt met as a code (`last_outcome`, an attempt's
`outcome`), read from what the dispatcher records, so a client can say it in words; the raw
record stays beside it. Before, the console could only show the raw record
("ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]...")."""

import asyncio
import datetime
import errno
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.config import get_settings
from app.core.errors import AppError
from app.partners.outcomes import Outcome, classify, of_error
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


async def _met(url: str, **client: object) -> httpx.HTTPError:
    async with httpx.AsyncClient(timeout=5, **client) as http:  # type: ignore[arg-type]
        with pytest.raises(httpx.HTTPError) as met:
            await http.post(url, content=b"{}")
    return met.value


async def test_what_an_attempt_met_is_read_from_the_exception_not_its_text(untrusted):
    """The dispatcher names what it met from the exception and its causes, as it meets it:
    the text differs between systems ("All connection attempts failed" is said of a refusal,
    of an unreachable network and of a timeout alike)."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert of_error(await _met(f"http://127.0.0.1:{closed}/hook")) == "refused"
    assert of_error(await _met(untrusted)) == "certificate"
    assert of_error(await _met(untrusted, verify=False)) == "connection_lost"  # it hangs up
    plain = await asyncio.start_server(
        lambda r, w: w.write(b"HTTP/1.1 400 No\r\n\r\n"), "127.0.0.1", 0
    )
    try:  # https to a server that answers in plain http
        port = plain.sockets[0].getsockname()[1]
        assert of_error(await _met(f"https://127.0.0.1:{port}/hook")) == "tls"
    finally:
        plain.close()
    assert of_error(httpx.ReadTimeout("")) == "timeout"

    def raised(outer: Exception, cause: BaseException) -> Exception:
        try:
            raise outer from cause
        except Exception as e:
            return e

    unreachable = raised(
        httpx.ConnectError("All connection attempts failed"),
        raised(OSError("All connection attempts failed"), OSError(errno.ENETUNREACH, "nope")),
    )
    assert classify(None, "ConnectError: All connection attempts failed") == "refused"  # text
    assert of_error(unreachable) == "connect_failed"  # what it was
    both = raised(
        httpx.ConnectError("All connection attempts failed"),
        ExceptionGroup("multiple", [OSError(errno.ENETUNREACH, "x"), socket.gaierror(-2, "y")]),
    )
    assert of_error(both) == "unresolvable"


async def test_the_kept_outcome_is_the_one_read(client, factory, receiver, http):
    """What the dispatcher kept is what the log says, whatever the raw record's text; a row
    from before outcomes were kept is still read from its text."""
    from sqlalchemy import update

    from app.core.db import sessionmaker
    from app.partners.models import WebhookAttempt, WebhookDelivery

    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    hook = await subscribe(client, h, receiver.url, ["case.closed"])
    receiver.answers.append((503, {}))
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    url = f"{API}/webhooks/{hook['id']}/deliveries"
    d = (await client.get(url, headers=h)).json()["items"][0]
    assert d["last_outcome"] == "http_error" and d["attempt_log"][0]["outcome"] == "http_error"

    async with sessionmaker()() as s:
        kept = await s.get(WebhookDelivery, d["id"])
        assert kept is not None and kept.last_outcome == "http_error"
        # As an older dispatcher left it: no outcome kept, a text that says a refusal.
        old = "ConnectError: [Errno 111] Connection refused"
        await s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == d["id"])  # type: ignore[arg-type]
            .values(last_outcome=None, last_status_code=None, last_error=old)
        )
        await s.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == d["id"])  # type: ignore[arg-type]
            .values(outcome="timeout", status_code=None, error=old)
        )
        await s.commit()
    d = (await client.get(url, headers=h)).json()["items"][0]
    assert d["last_outcome"] == "refused"  # read from the text
    assert d["attempt_log"][0]["outcome"] == "timeout"  # kept: it wins over the text
