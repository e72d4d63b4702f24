"""Real servers for the socket tests: uvicorn in this process (sharing the test app and its
loop) or in a subprocess (a browser's view, several processes, Redis), plus a small client."""

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.timing import clock_env

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_url() -> str | None:
    """The Redis to test against. Unset means the embedded mode (the first pass of .ci/run,
    which then fails by itself if it cannot reach Redis for the second); set, it must
    answer: a Redis that is named but down fails the test rather than skipping it."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set (embedded mode)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        pytest.fail(f"REDIS_URL={url} does not answer: {e}")
    return url


@contextlib.asynccontextmanager
async def inprocess_server(app: Any) -> AsyncIterator[str]:
    """uvicorn serving the already-started test app (its lifespan runs in the app fixture)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
            ws_per_message_deflate=False,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class ServerProcess:
    """`uvicorn app.main:app` in a subprocess, on the suite's database."""

    def __init__(self, database_url: str, *args: str, **env: str | None) -> None:
        self.port = free_port()
        self.args = args  # more of uvicorn's options
        self.env = {**os.environ, **clock_env(), "DATABASE_URL": database_url}
        self.env.pop("REDIS_URL", None)
        for k, v in env.items():
            if v is None:
                self.env.pop(k, None)
            else:
                self.env[k] = v
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> "ServerProcess":
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.args,
            cwd=ROOT,
            env=self.env,
        )
        # A loaded machine (parallel runs) can take a while to import and start the app.
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient() as c:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError("uvicorn exited at start-up")
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.get(f"http://{self.host}/healthz")).status_code == 200:
                        return self
                await asyncio.sleep(0.1)
        # Never leave it behind: a server (and its worker) still on the suite's database
        # would hold locks the next test's clean-up waits for, and take its work.
        await self.__aexit__()
        raise RuntimeError("uvicorn did not start")

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
        try:
            async with asyncio.timeout(15):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class RedisProcess:
    """A private redis-server on its own port, so a test may stop it (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            stdout=asyncio.subprocess.DEVNULL,
        )
        for _ in range(100):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            await self.proc.wait()
            self.proc = None


class Client:
    """A socket that remembers every frame it got, by type."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.ready: dict[str, Any] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next(self, type_: str | None = None, within: float = 5) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.ws.recv())
                self.frames.append(frame)
                if type_ is None or frame["type"] == type_:
                    return frame

    async def messages(self, n: int, within: float = 10) -> list[dict[str, Any]]:
        return [await self.next("message", within) for _ in range(n)]

    async def closed(self, within: float = 10) -> tuple[int | None, str | None]:
        """Read until the server closes; the close code and reason."""
        try:
            async with asyncio.timeout(within):
                while True:
                    self.frames.append(json.loads(await self.ws.recv()))
        except ConnectionClosed as e:
            return (e.rcvd.code, e.rcvd.reason) if e.rcvd else (None, None)

    async def close(self) -> None:
        await self.ws.close()


async def open_socket(
    host: str,
    path: str,
    token: str | None,
    *,
    after_seq: int | None = None,
    after_id: int | None = None,
    **kw: Any,
) -> Client:
    ws = await connect(f"ws://{host}{API}{path}", open_timeout=10, compression=None, **kw)
    c = Client(ws)
    if token is not None:
        frame: dict[str, Any] = {"type": "auth", "token": token}
        if after_seq is not None:
            frame["after_seq"] = after_seq
        if after_id is not None:
            frame["after_id"] = after_id  # the inbox's: the last event id heard
        await c.send(frame)
        c.ready = await c.next("ready", within=15)
    return c
