"""Where webhooks may go: https URLs that resolve only to public addresses (no SSRF)."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from app.core.errors import Unprocessable


class UnsafeWebhookUrl(Unprocessable):
    """The webhook URL is not https or does not resolve to a public address."""

    code = "unsafe-webhook-url"


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


async def check_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeWebhookUrl unless the URL may receive webhooks (checked again per send)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as e:
        raise _bad(f"The URL is malformed: {e}.") from e
    if parts.scheme not in ("https", "http") or not host:
        raise _bad("The URL must be an absolute https URL.")
    if parts.username or parts.password:
        raise _bad("The URL must not carry credentials.")
    if allow_private:
        return
    if parts.scheme != "https":
        raise _bad("The URL must use https.")
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
            raise _bad(f"The host {host} does not resolve.") from e
        addresses = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    blocked = [str(a) for a in addresses if not _is_public(a)]
    if not addresses or blocked:
        raise _bad(
            f"The host {host} resolves to a non-public address ({', '.join(blocked)}); "
            "webhooks go only to public addresses."
        )


def _bad(detail: str) -> UnsafeWebhookUrl:
    return UnsafeWebhookUrl(detail, errors=[{"pointer": "/url", "detail": detail}])
