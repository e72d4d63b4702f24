"""Reserved names for tests (RFC 6761: `.invalid` never resolves), answered here: looking
one up sends nothing beyond this machine."""

import asyncio
import socket
from typing import Any

import pytest


def invalid_names_never_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this event loop, a `.invalid` name fails to resolve as an unknown name does, without
    asking any DNS server; other names resolve as before. Call it with the loop running."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def resolve(host: Any, *args: Any, **kw: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await real(host, *args, **kw)

    monkeypatch.setattr(loop, "getaddrinfo", resolve)
