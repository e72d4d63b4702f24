"""Where webhooks may go: https URLs that resolve only to public addresses (no SSRF), and
the connection made to the very address that was checked (no DNS rebinding)."""

import asyncio
import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from app.core.errors import Unprocessable


class UnsafeWebhookUrl(Unprocessable):
    """The webhook URL is not https or does not resolve to a public address. Its `errors[]`
    entry (pointer `/url`) says why for programs too, by `code` (REFUSALS)."""

    code = "unsafe-webhook-url"


# Why a URL is refused, as `errors[].code` (a client says it in its own words: the console's
# `invalid.<code>`); the problem's type, status and detail text stay as they were.
REFUSALS = (
    "url_malformed",  # not a URL that can be parsed, or without a host
    "https_required",  # another scheme (ftp:, or http: where private addresses are not allowed)
    "url_credentials",  # a user name or password in the URL
    "host_unresolvable",  # the host name does not resolve
    "private_address",  # it resolves to a loopback, private, link-local... address
)


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_url(url: str, allow_private: bool) -> list[str]:
    """Raise UnsafeWebhookUrl unless the URL may receive webhooks (checked again per send).
    Returns the addresses checked, to connect to (none when private ones are allowed)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as e:
        raise _bad(f"The URL is malformed: {e}.", "url_malformed") from e
    if parts.scheme not in ("https", "http") or not host:
        web = parts.scheme in ("https", "http")  # then it is the host that is missing
        code = "url_malformed" if web else "https_required"
        raise _bad("The URL must be an absolute https URL.", code)
    if parts.username or parts.password:
        raise _bad("The URL must not carry credentials.", "url_credentials")
    if allow_private:
        return []
    if parts.scheme != "https":
        raise _bad("The URL must use https.", "https_required")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port or 443, type=socket.SOCK_STREAM
            )
        except OSError as e:
            raise _bad(f"The host {host} does not resolve.", "host_unresolvable") from e
        addresses = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    blocked = [str(a) for a in addresses if not _is_public(a)]
    if not addresses or blocked:
        raise _bad(
            f"The host {host} resolves to a non-public address ({', '.join(blocked)}); "
            "webhooks go only to public addresses.",
            "private_address" if blocked else "host_unresolvable",
        )
    return [str(a) for a in addresses]


def _bad(detail: str, code: str) -> UnsafeWebhookUrl:
    return UnsafeWebhookUrl(detail, errors=[{"pointer": "/url", "detail": detail, "code": code}])


# -- connecting to the address that was checked ----------------------------------------------
# (host as the HTTP client names it, the address to connect to instead of resolving it again)
_pin: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "webhook_pin", default=None
)


@contextlib.contextmanager
def pinned(url: str, addresses: list[str]) -> Iterator[None]:
    """Within this block, a webhook client connecting to the URL's host connects to the first
    checked address: the name is not resolved again (it could answer otherwise by then).
    The request keeps the name in its Host header, TLS server name and certificate check."""
    if not addresses:
        yield
        return
    token = _pin.set((httpx.URL(url).raw_host.decode("ascii"), addresses[0]))
    try:
        yield
    finally:
        _pin.reset(token)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        pin = _pin.get()
        if pin is not None:
            if host != pin[0]:  # never a name that was not checked (redirects are not followed)
                raise httpcore.ConnectError(f"{host} is not the checked webhook host")
            host = pin[1]
        return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks go over TCP")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def webhook_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The HTTP client webhooks are sent with: honours `pinned`, follows no redirect."""
    transport = httpx.AsyncHTTPTransport()
    # httpx takes no network backend; its connection pool keeps the one it connects with
    # here (tests/partners/test_rebinding.py fails if that ever stops being so).
    transport._pool._network_backend = _PinnedBackend()
    return httpx.AsyncClient(transport=transport, follow_redirects=False, timeout=timeout)
