"""The bus between processes: in memory (one process) or Redis (several processes, hosts).

A message is a JSON-able dict. `publish` delivers to this process's hub at once and, with
Redis, to every other process. The database stays the source of truth: a process that
was cut off from Redis is told to catch its sockets up from it (`on_resync`).
"""

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

log = logging.getLogger("app.realtime")

Deliver = Callable[[dict[str, Any]], None]
Resync = Callable[[], None]


class PubSub:
    """Base: in-process delivery only."""

    healthy = True

    def __init__(self) -> None:
        self.origin = secrets.token_hex(6)
        self._deliver: Deliver = lambda _m: None
        self._resync: Resync = lambda: None

    async def start(self, deliver: Deliver, on_resync: Resync) -> None:
        self._deliver, self._resync = deliver, on_resync

    async def publish(self, msg: dict[str, Any]) -> None:
        self._deliver(msg)

    async def stop(self) -> None:
        return None


class MemoryPubSub(PubSub):
    """The embedded default: one process, nothing to run beside it."""


class RedisPubSub(PubSub):
    def __init__(self, url: str, channel: str = "consult:live") -> None:
        super().__init__()
        import redis.asyncio as aioredis

        self.url, self.channel = url, channel
        # Publishing must fail fast when Redis is gone: local sockets keep being served.
        self._pub = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self._sub = aioredis.from_url(url, socket_connect_timeout=1)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.healthy = False
        self._warned = False

    async def start(self, deliver: Deliver, on_resync: Resync) -> None:
        await super().start(deliver, on_resync)
        connected = asyncio.Event()
        self._task = asyncio.create_task(self._listen(connected))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                await connected.wait()

    async def _listen(self, connected: asyncio.Event) -> None:
        backoff, first = 0.05, True
        while not self._stopping:
            ps = self._sub.pubsub(ignore_subscribe_messages=True)
            try:
                await ps.subscribe(self.channel)
                self.healthy, self._warned, backoff = True, False, 0.05
                connected.set()
                if not first:
                    log.warning("redis is back: catching sockets up from the database")
                    self._resync()
                first = False
                async for m in ps.listen():
                    if m.get("type") != "message":
                        continue
                    msg = json.loads(m["data"])
                    if msg.pop("origin", None) != self.origin:
                        self._deliver(msg)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # connection lost or refused: retry with backoff
                if self.healthy or not self._warned:
                    log.warning("redis subscription lost (%s); retrying", e)
                    self._warned = True
                self.healthy = False
                first = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
            finally:
                with contextlib.suppress(Exception):
                    await ps.aclose()  # type: ignore[no-untyped-call]  # redis stubs leave it untyped

    async def publish(self, msg: dict[str, Any]) -> None:
        self._deliver(msg)
        try:
            await self._pub.publish(
                self.channel, json.dumps({**msg, "origin": self.origin}, default=str)
            )
        except Exception as e:
            # Other processes miss it live; their sockets catch up when Redis returns.
            if self.healthy or not self._warned:
                log.warning("redis publish failed (%s)", e)
                self._warned = True
            self.healthy = False

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for client in (self._pub, self._sub):
            with contextlib.suppress(Exception):
                await client.aclose()


def make_pubsub(redis_url: str | None, channel: str = "consult:live") -> PubSub:
    return RedisPubSub(redis_url, channel) if redis_url else MemoryPubSub()
