"""Email over SMTP (aiosmtplib: STARTTLS or TLS, auth), or .eml files when SMTP_URL is unset.

One connection per batch: opening one (and STARTTLS) costs more than a message. A 5xx
answer for a message is permanent; anything else (4xx, a dropped connection, a timeout)
is temporary and the delivery is tried again with the same Message-ID."""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from app.core.clock import utcnow
from app.core.config import get_settings
from app.notifications.channels.base import Outcome, Result
from app.notifications.content import Rendered

log = logging.getLogger("app.notifications.email")


@dataclass
class Mail:
    delivery_id: str
    message_id: str
    to: str
    subject: str
    text: str
    html: str
    language: str = "en"
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, delivery_id: str, message_id: str, to: str, rendered: Rendered) -> "Mail":
        """The mail of a rendered message: its Content-Language is the language the text
        was rendered in (never worked out again, so the two cannot disagree)."""
        return cls(
            delivery_id,
            message_id,
            to,
            rendered.subject,
            rendered.text,
            rendered.html,
            rendered.language,
            list(rendered.attachments),
        )


# The stdlib's compat32 API: headers kept as the strings we give, so building and writing a
# message costs a fraction of EmailMessage's (its header registry parsed and refolded every
# header, half of the sender's time under a stream of offers). Bodies in quoted-printable
# UTF-8 (7-bit clean for any relay), CRLF line ends as SMTP wants them.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_UTF8.body_encoding = QP
_WIRE = compat32.clone(linesep="\r\n")


def _envelope_from() -> str:
    return parseaddr(get_settings().mail_from)[1] or get_settings().mail_from


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, _UTF8).encode()


def _text(body: str, subtype: str) -> MIMEText:
    return MIMEText(body, subtype, None if body.isascii() else _UTF8)  # type: ignore[arg-type]


def build(mail: Mail) -> bytes:
    """The message as it goes on the wire (and into a .eml file)."""
    msg: MIMEBase = MIMEMultipart(
        "alternative", _subparts=[_text(mail.text, "plain"), _text(mail.html, "html")]
    )
    if mail.attachments:
        outer = MIMEMultipart("mixed", _subparts=[msg])
        for filename, mime, data in mail.attachments:
            maintype, _, subtype = mime.partition("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            outer.attach(part)
        msg = outer
    msg["Message-ID"] = mail.message_id
    msg["From"] = _header(get_settings().mail_from)
    msg["To"] = mail.to
    msg["Subject"] = _header(mail.subject)
    msg["Date"] = format_datetime(utcnow())
    msg["Content-Language"] = mail.language
    # Automated: no out-of-office replies to a no-reply address.
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes(policy=_WIRE)


@dataclass
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool
    start_tls: bool | None  # None: when the server offers it
    username: str | None
    password: str | None
    validate_certs: bool


def parse_url(url: str) -> SmtpTarget:
    """smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=required insists,
    ?starttls=off never), smtps://user:pass@host:465 (TLS); ?verify=false accepts a
    self-signed certificate (tests, a relay on the same host)."""
    u = urlsplit(url)
    if u.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    q = {k: v[-1] for k, v in parse_qs(u.query).items()}
    tls = u.scheme == "smtps"
    starttls = {"required": True, "off": False}.get(q.get("starttls", ""), None)
    return SmtpTarget(
        hostname=u.hostname or "localhost",
        port=u.port or (465 if tls else 587),
        use_tls=tls,
        start_tls=False if tls else starttls,
        username=unquote(u.username) if u.username else None,
        password=unquote(u.password) if u.password else None,
        validate_certs=q.get("verify", "true").lower() not in ("false", "0", "no"),
    )


def _permanent(e: Exception) -> bool:
    if isinstance(e, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in e.recipients)
    if isinstance(e, aiosmtplib.SMTPResponseException):
        return 500 <= e.code < 600
    return False


async def _write_files(mails: list[Mail]) -> list[Result]:
    """No SMTP server: each email becomes a .eml file a newcomer can open."""
    folder = Path(get_settings().data_dir) / "mail"
    out = []
    for m in mails:
        name = m.message_id.strip("<>").replace("@", "_at_") + ".eml"
        data = build(m)
        await asyncio.to_thread(_write, folder / name, data)
        log.info("email to %s written to %s (SMTP_URL is not set)", m.to, folder / name)
        out.append(Result(m.delivery_id, Outcome.sent))
    return out


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


# Connections kept open between batches (per event loop and SMTP_URL): under a stream of
# offers the sender passes are small, and opening a connection (EHLO, STARTTLS, AUTH) for
# each cost more than its messages. Idle longer than this, one is closed and reopened.
KEEP_OPEN_SECONDS = 30.0
_kept: dict[str, list[tuple[aiosmtplib.SMTP, float, asyncio.AbstractEventLoop]]] = {}


def _client(t: SmtpTarget) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=t.hostname,
        port=t.port,
        use_tls=t.use_tls,
        start_tls=t.start_tls,
        username=t.username,
        password=t.password,
        validate_certs=t.validate_certs,
        timeout=20,
    )


def _take(key: str) -> aiosmtplib.SMTP | None:
    """A kept connection, taken out of the pool while one chunk uses it, or None when there
    is none fit to reuse."""
    pool = _kept.get(key, [])
    while pool:
        client, since, loop = pool.pop()
        if loop is not asyncio.get_running_loop():  # made on another loop (a test's): drop it
            continue
        # Transport idleness, not programme time: real seconds on the monotonic clock.
        if client.is_connected and time.monotonic() - since < KEEP_OPEN_SECONDS:
            return client
        client.close()
    return None


def _keep(key: str, client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    pool = _kept.setdefault(key, [])
    if len(pool) >= get_settings().smtp_connections:  # enough kept meanwhile
        client.close()
        return
    pool.append((client, time.monotonic(), asyncio.get_running_loop()))


def close_kept() -> None:
    """Close the kept connections (at shutdown), from the loop they run on."""
    loop = asyncio.get_running_loop()
    for pool in _kept.values():
        for client, _, its_loop in pool:
            if its_loop is loop:
                client.close()
    _kept.clear()


async def send(mails: list[Mail]) -> list[Result]:
    """A batch over up to SMTP_CONNECTIONS connections at once: a message costs a few round
    trips (MAIL, RCPT, DATA), so one connection alone is bound by latency, not by CPU."""
    if not mails:
        return []
    url = get_settings().smtp_url
    if not url:
        return await _write_files(mails)
    t = parse_url(url)
    done = await asyncio.gather(*(_send_on(t, url, lane) for lane in _lanes(mails)))
    return [r for results in done for r in results]


def _lanes(mails: list[Mail]) -> list[list[Mail]]:
    """The batch split over up to SMTP_CONNECTIONS connections, each person's mails on one
    of them in the batch's order: two notices to one person arrive as they were written
    (dealt out in turn, they raced and a "case overdue" could land before its warning)."""
    count = max(1, min(get_settings().smtp_connections, len(mails)))
    lanes: list[list[Mail]] = [[] for _ in range(count)]
    lane_of: dict[str, int] = {}
    for m in mails:
        lane = lane_of.setdefault(m.to.lower(), len(lane_of) % count)
        lanes[lane].append(m)
    return [lane for lane in lanes if lane]


async def _send_on(t: SmtpTarget, key: str, mails: list[Mail]) -> list[Result]:
    """`mails` in turn over one connection (kept, or opened now)."""
    client = _take(key)
    reused = client is not None
    if client is None:
        client = _client(t)
        try:
            await client.connect()
        except Exception as e:  # the server is down or refuses us: all of them later
            return [Result(m.delivery_id, Outcome.retry, f"connect: {e}"[:500]) for m in mails]
    results: list[Result] = []
    try:
        for m in mails:
            try:
                await client.sendmail(_envelope_from(), [m.to], build(m))
                results.append(Result(m.delivery_id, Outcome.sent))
            except aiosmtplib.SMTPServerDisconnected as e:
                if not (reused and not results):
                    results.append(Result(m.delivery_id, Outcome.retry, str(e)[:500]))
                    break
                # The kept connection was closed by the server while idle: a new one.
                reused = False
                client = _client(t)
                try:
                    await client.connect()
                    await client.sendmail(_envelope_from(), [m.to], build(m))
                    results.append(Result(m.delivery_id, Outcome.sent))
                except Exception as e2:
                    outcome = Outcome.failed if _permanent(e2) else Outcome.retry
                    results.append(Result(m.delivery_id, outcome, str(e2)[:500]))
                    if not client.is_connected:
                        break
            except Exception as e:
                outcome = Outcome.failed if _permanent(e) else Outcome.retry
                results.append(Result(m.delivery_id, outcome, str(e)[:500]))
                if not client.is_connected:
                    break
    finally:
        done = {r.delivery_id for r in results}
        results += [
            Result(m.delivery_id, Outcome.retry, "connection lost")
            for m in mails
            if m.delivery_id not in done
        ]
        _keep(key, client)
    return results
