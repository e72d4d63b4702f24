"""Real servers on 127.0.0.1 for the channels: an SMTP server (aiosmtpd), and one HTTP
endpoint that plays both a browser's push service and the SMS gateway."""

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

from app.core.db import sessionmaker
from app.notifications import sender

API = "/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """An SMTP server that keeps what it accepts; `reply` makes it answer DATA otherwise."""

    def __init__(self, port: int | None = None, **controller_kw: Any) -> None:
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None
        self.port = port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **controller_kw)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.reply:
            return self.reply
        raw = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class HttpSink:
    """Records POSTs; `status` is what it answers (201 for a push service, 200 a gateway)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status: dict[str, int] = {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.path, dict(request.headers), body))
        return web.Response(
            status=self.status.get(request.path, 201 if "push" in request.path else 200)
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self.runner.cleanup()

    def at(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        return [r for r in self.requests if r[0] == path]


async def send_all() -> int:
    """What the worker's sender does, until nothing is due."""
    total = 0
    while n := await sender.send_due():
        total += n
    return total


async def deliveries(**where: Any) -> list[Any]:
    from sqlalchemy import select

    from app.notifications.models import Delivery

    async with sessionmaker()() as s:
        stmt = select(Delivery).order_by(Delivery.created_at, Delivery.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(Delivery, k) == v)
        return list((await s.scalars(stmt)).all())


def text_of(msg: EmailMessage, subtype: str = "plain") -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())
