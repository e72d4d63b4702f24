"""The app's real sender (SMTP_URL, aiosmtplib) against an SMTP server on 127.0.0.1 that
insists on STARTTLS and AUTH, and one that speaks TLS from the first byte (smtps://). The
certificate is self-signed, made here: `?verify=false` accepts it; without it the sender
refuses the server and retries later."""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.config import get_settings
from app.core.db import sessionmaker
from app.core.principal import Role
from app.notifications.channels import email
from app.notifications.kinds import Kind
from app.notifications.service import notify
from tests.notifications.support import SmtpSink, deliveries, send_all

USER, PASSWORD = "relay-user", "s3cret pass/word"


def _certificate(folder: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)  # the certificate's validity is real time, not the programme's
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


class Logins:
    """aiosmtpd's authenticator: who logged in, and with what."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool]] = []  # (mechanism, login, over TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        tls = server.transport.get_extra_info("ssl_object") is not None  # STARTTLS or smtps
        self.seen.append((mechanism, login, tls))
        # handled=False: aiosmtpd answers the refusal itself (535). With its default
        # (handled=True) it sends nothing, and a wrong password waited out the client's
        # 20 s timeout instead of being refused.
        return AuthResult(success=login == USER and password == PASSWORD, handled=False)


@pytest.fixture
def tls_context(tmp_path) -> ssl.SSLContext:
    return _certificate(tmp_path)


async def _told(factory) -> str:
    user = await factory.make_user(Role.specialist)
    async with sessionmaker()() as s:
        await notify(s, user.id, Kind.messages, data={"count": 2, "specialty": "x"}, link="/")
        await s.commit()
    return user.email


def _url(scheme: str, port: int, query: str, password: str = PASSWORD) -> str:
    from urllib.parse import quote

    return f"{scheme}://{USER}:{quote(password, safe='')}@127.0.0.1:{port}?{query}"


@pytest.fixture
async def servers():
    started: list[SmtpSink] = []
    yield started
    email.close_kept()
    for s in started:
        s.controller.stop()


async def test_starttls_and_auth_through_the_real_sender(
    factory, monkeypatch, tls_context, servers
):
    logins = Logins()
    sink = SmtpSink(
        tls_context=tls_context,
        require_starttls=True,
        authenticator=logins,
        auth_required=True,
        auth_require_tls=True,
    )
    sink.controller.start()
    servers.append(sink)
    monkeypatch.setattr(
        get_settings(), "smtp_url", _url("smtp", sink.port, "starttls=required&verify=false")
    )
    to = await _told(factory)
    assert await send_all() == 1
    [mail] = sink.to(to)
    assert "2 new message(s)" in mail["Subject"]
    # AUTH happened over the upgraded connection, with the password from the URL.
    assert logins.seen and all(login == USER and tls for _, login, tls in logins.seen)
    [d] = await _deliveries_to(to)
    assert d.status == "sent"


async def _deliveries_to(address: str):
    return [d for d in await deliveries(address=address)]


async def test_a_wrong_password_is_refused_and_tried_again_later(
    factory, monkeypatch, tls_context, servers
):
    sink = SmtpSink(
        tls_context=tls_context,
        require_starttls=True,
        authenticator=Logins(),
        auth_required=True,
        auth_require_tls=True,
    )
    sink.controller.start()
    servers.append(sink)
    url = _url("smtp", sink.port, "starttls=required&verify=false", password="wrong")
    monkeypatch.setattr(get_settings(), "smtp_url", url)
    to = await _told(factory)
    assert await send_all() == 1
    assert sink.messages == []
    [d] = await _deliveries_to(to)
    assert d.status == "pending" and d.attempts == 1 and "connect" in (d.last_error or "")
    assert "535" in (d.last_error or "")  # refused for its credentials, not timed out


async def test_the_certificate_is_checked_unless_the_url_says_verify_false(
    factory, monkeypatch, tls_context, servers
):
    sink = SmtpSink(tls_context=tls_context, require_starttls=True)
    sink.controller.start()
    servers.append(sink)
    monkeypatch.setattr(
        get_settings(), "smtp_url", f"smtp://127.0.0.1:{sink.port}?starttls=required"
    )
    to = await _told(factory)
    assert await send_all() == 1
    assert sink.messages == []  # a self-signed certificate is not trusted by default
    [d] = await _deliveries_to(to)
    assert d.status == "pending" and "certificate" in (d.last_error or "").lower()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_smtps(factory, monkeypatch, tls_context, servers):
    logins = Logins()
    # aiosmtpd counts only STARTTLS as TLS for `auth_require_tls`; here the whole
    # connection is TLS from the first byte (the authenticator checks the login came so).
    sink = SmtpSink(
        ssl_context=tls_context, authenticator=logins, auth_required=True, auth_require_tls=False
    )
    sink.controller.start()
    servers.append(sink)
    monkeypatch.setattr(get_settings(), "smtp_url", _url("smtps", sink.port, "verify=false"))
    to = await _told(factory)
    assert await send_all() == 1
    [mail] = sink.to(to)
    assert "2 new message(s)" in mail["Subject"]
    assert logins.seen and all(login == USER and tls for _, login, tls in logins.seen)
