"""What an attempt met, as a code a client can put in its own words (`last_outcome` of a
delivery, `outcome` of an attempt). The dispatcher decides it when it meets it: from the
HTTP status (`of_status`) or from the exception and what caused it (`of_error`: the
exception's type, never its text, which differs between systems and versions), and keeps
it beside the raw record (the status, or `"<httpx exception>: <message>"`, or the URL
rule's refusal). Rows from before it was kept have none: `classify` reads theirs from the
raw record's text."""

import socket
import ssl
from collections.abc import Iterator
from typing import Literal, get_args

import httpx

Outcome = Literal[
    "delivered",  # a 2xx answer
    "http_error",  # another answer (4xx, 5xx, or 1xx)
    "redirect",  # a 3xx: redirects are never followed
    "gone",  # 410 Gone: the subscription was disabled
    "timeout",  # no answer (or no connection) in time
    "refused",  # nothing accepted the connection
    "unresolvable",  # the host name did not resolve
    "certificate",  # the server's certificate is not trusted (self-signed, expired, wrong name)
    "tls",  # the secure connection failed otherwise
    "connect_failed",  # no connection, for another reason
    "connection_lost",  # connected, then the connection broke before the answer
    "unsafe_url",  # not sent: the URL no longer passes the rule (https, public addresses)
    "failed",  # anything else
]

_CODES = ", ".join(f"`{c}`" for c in get_args(Outcome))
LAST_OUTCOME = (
    f"What the last attempt met, for programs ({_CODES}); null before the first attempt. "
    "The raw record stays in `last_status_code` and `last_error`."
)
ATTEMPT_OUTCOME = (
    f"What this attempt met, for programs ({_CODES}). "
    "The raw record stays in `status_code` and `error`."
)

_TIMEOUTS = ("ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException")
_BROKEN = ("ReadError", "WriteError", "CloseError", "RemoteProtocolError", "LocalProtocolError")
# Said in lower case: an error's text is compared in lower case.
_UNRESOLVABLE = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",
)
_REFUSED = ("all connection attempts failed", "connection refused", "[errno 111]")
# How the URL rule's refusals begin (urls.check_url's details).
_URL_RULE = ("The URL ", "The host ")


def of_status(status_code: int) -> Outcome:
    """What an answer with this status means."""
    if 200 <= status_code < 300:
        return "delivered"
    if status_code == 410:
        return "gone"
    return "redirect" if 300 <= status_code < 400 else "http_error"


def _causes(e: BaseException) -> Iterator[BaseException]:
    """`e` and what caused it: httpx raises its own error from httpcore's, from the
    socket's (a group of them when several addresses were tried)."""
    todo, seen = [e], set()
    while todo:
        c = todo.pop(0)
        if id(c) in seen:
            continue
        seen.add(id(c))
        yield c
        todo += [x for x in (c.__cause__, c.__context__) if x is not None]
        if isinstance(c, BaseExceptionGroup):
            todo += list(c.exceptions)


def of_error(e: BaseException) -> Outcome:
    """What an attempt that got no answer met, from the exception (an httpx.HTTPError)."""
    if isinstance(e, httpx.TimeoutException):
        return "timeout"
    causes = list(_causes(e))
    checks: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Outcome], ...] = (
        (ssl.SSLCertVerificationError, "certificate"),
        (ssl.SSLError, "tls"),
        (socket.gaierror, "unresolvable"),
        (ConnectionRefusedError, "refused"),
        (TimeoutError, "timeout"),
    )
    for kind, outcome in checks:
        if any(isinstance(c, kind) for c in causes):
            return outcome
    if isinstance(e, httpx.ConnectError | httpx.ProxyError):
        return "connect_failed"
    if isinstance(e, httpx.NetworkError | httpx.ProtocolError):
        return "connection_lost"  # connected, then the connection broke before the answer
    return "failed"


def classify(status_code: int | None, error: str | None) -> Outcome | None:
    """The outcome of an attempt recorded as this status code and error, for a row from
    before outcomes were kept (None: none yet)."""
    if status_code is not None:
        return of_status(status_code)
    if not error:
        return None
    if error.startswith(_URL_RULE):
        return "unsafe_url"
    kind = error.partition(": ")[0]
    said = error.lower()
    if kind in _TIMEOUTS or "timed out" in said:
        return "timeout"
    if "certificate_verify_failed" in said or "certificate verify failed" in said:
        return "certificate"
    if "[ssl" in said or kind == "SSLError":
        return "tls"
    if any(m in said for m in _UNRESOLVABLE):
        return "unresolvable"
    if any(m in said for m in _REFUSED):
        return "refused"
    if kind in ("ConnectError", "ProxyError"):
        return "connect_failed"
    if kind in _BROKEN:
        return "connection_lost"
    return "failed"
