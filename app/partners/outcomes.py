"""What an attempt's recorded answer means, as a code a client can put in its own words
(`last_outcome` of a delivery, `outcome` of an attempt). The dispatcher records the HTTP
status, or the error it met as `"<httpx exception>: <message>"`, or the URL rule's refusal
(app/partners/urls.py); this reads those records, old ones included."""

from typing import Literal, get_args

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


def classify(status_code: int | None, error: str | None) -> Outcome | None:
    """The outcome of an attempt recorded as this status code and error (None: none yet)."""
    if status_code is not None:
        if 200 <= status_code < 300:
            return "delivered"
        if status_code == 410:
            return "gone"
        return "redirect" if 300 <= status_code < 400 else "http_error"
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
