"""A partner's receiver on 127.0.0.1 (a real socket, served by uvicorn) and helpers."""

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn

API = "/api/v1"


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every request; answers with queued (status, headers) or 200."""

    calls: list[Call] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    path: str = "/hook"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body, more = b"", True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        self.calls.append(Call({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})


def free_socket() -> socket.socket:
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every response (head and body written apart) waited ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Served:
    """Serve a receiver with uvicorn in this event loop."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.sock = free_socket()
        receiver.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(receiver, log_level="warning", lifespan="off"))
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Receiver:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        for _ in range(1000):
            if self.server.started:
                break
            await asyncio.sleep(0.01)
        return self.receiver

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task:
            await self.task
        self.sock.close()
