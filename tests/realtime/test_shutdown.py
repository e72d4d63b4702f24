"""SIGTERM, as a deploy sends it, to the command the Dockerfile runs: live sockets are
closed with 1012 (service restart: reconnect elsewhere and resume) and the process is gone
within its graceful timeout."""

import asyncio
import re
import signal
import time
from pathlib import Path

import httpx

from app.core.principal import Role
from tests.realtime.support import ServerProcess, open_socket

ROOT = Path(__file__).resolve().parents[2]
GRACE = 3


def test_the_image_and_the_readme_stop_gracefully():
    for text in ((ROOT / "Dockerfile").read_text(), (ROOT / "README.md").read_text()):
        assert re.search(r"--timeout-graceful-shutdown\W+20", text)


async def test_sigterm_closes_sockets_with_1012_and_exits_within_the_grace(database_url, factory):
    user = await factory.make_user(Role.specialist)
    server = ServerProcess(database_url, "--timeout-graceful-shutdown", str(GRACE))
    async with server:
        sock = await open_socket(server.host, "/ws/inbox", factory.token(user))
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code, _ = await sock.closed(within=GRACE + 5)
        assert code == 1012
        async with asyncio.timeout(GRACE + 5):
            # uvicorn ends by re-raising the signal it handled (exit status -SIGTERM).
            assert await server.proc.wait() in (0, -signal.SIGTERM)
        assert time.monotonic() - started < GRACE + 5
        # Nothing listens any more.
        async with httpx.AsyncClient() as c:
            try:
                await c.get(f"http://{server.host}/healthz", timeout=2)
                answered = True
            except httpx.HTTPError:
                answered = False
        assert not answered
