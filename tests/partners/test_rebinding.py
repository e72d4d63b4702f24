"""DNS rebinding: the webhook host answers a public address when checked and an internal
one a moment later, when the sender connects. The sender must connect to what it checked."""

import asyncio
import contextlib
import socket

from app.core.config import get_settings
from app.partners import dispatcher, urls
from app.partners.dispatcher import SEND_TIMEOUT
from app.partners.urls import webhook_client
from tests.partners.helpers import commit_event, dispatch, subscribe

HOST = "rebind.test"
PUBLIC, INTERNAL = "127.0.0.2", "127.0.0.1"  # the test's stand-ins for the two addresses


class Listener:
    """A TCP port that records who connected and the first bytes they sent (a TLS
    ClientHello carries the server name in clear), then hangs up."""

    def __init__(self) -> None:
        self.hellos: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            self.hellos.append(await asyncio.wait_for(reader.read(4096), 5))
        writer.close()

    async def start(self, ip: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, ip, port)
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        assert self.server is not None
        self.server.close()


async def _listeners() -> tuple[Listener, Listener, int]:
    """One port number, listened on at both addresses."""
    for _ in range(20):
        public, internal = Listener(), Listener()
        port = await public.start(PUBLIC, 0)
        try:
            await internal.start(INTERNAL, port)
        except OSError:
            public.close()
            continue
        return public, internal, port
    raise RuntimeError("no port free on both addresses")


async def test_attack_dns_rebinding_never_reaches_the_internal_address(
    client, factory, monkeypatch
):
    public, internal, port = await _listeners()
    monkeypatch.setattr(urls, "_is_public", lambda ip: str(ip) == PUBLIC)
    rebind_next = False
    real_check = dispatcher.check_url

    async def check_then_rebind(url: str, allow_private: bool) -> list[str]:
        nonlocal rebind_next
        checked = await real_check(url, allow_private)
        rebind_next = True  # the attacker's DNS answers otherwise right after the check
        return checked

    loop = asyncio.get_running_loop()
    real_resolve = loop.getaddrinfo

    async def resolve(host, port_, *args, **kw):
        nonlocal rebind_next
        if (host.decode() if isinstance(host, bytes) else host) != HOST:
            return await real_resolve(host, port_, *args, **kw)
        ip, rebind_next = (INTERNAL if rebind_next else PUBLIC), False
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port_))]

    monkeypatch.setattr(dispatcher, "check_url", check_then_rebind)
    monkeypatch.setattr(loop, "getaddrinfo", resolve)
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    try:
        org = await factory.make_org()
        cl = await factory.make_client(org.id)
        await subscribe(client, factory.headers(cl), f"https://{HOST}:{port}/hook", ["case.closed"])
        await commit_event("case.closed", org.id, "case_1")
        async with webhook_client(SEND_TIMEOUT) as http:
            assert await dispatch(http, passes=1) == 1
        await asyncio.sleep(0)
        # The internal address was never contacted; the checked one was, by name (SNI).
        assert internal.hellos == []
        assert len(public.hellos) == 1 and HOST.encode() in public.hellos[0]
    finally:
        public.close()
        internal.close()
