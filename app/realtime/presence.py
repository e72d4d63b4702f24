"""Who has a live socket open in which case's room, for those who must not bother someone
who is there (the notifier gathers messages only for participants who are away).

Embedded (no Redis): the hub of this one process knows its sockets. With Redis, each
process records its room sockets in one sorted set per case
(`<WS_CHANNEL>:presence:<case_id>`, member `<user_id> <socket id>`, score the real time,
`clock.wall()`, at which the entry lapses: a socket is there in real seconds whatever the
programme's clock does). A live socket's entry is renewed every TTL/3 and removed when it
closes, so a process that dies without closing its sockets is forgotten within TTL
seconds. Any process (the app's, a worker's) reads the set. An error reading it answers
"nobody is there": the email is sent rather than lost.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from app.core.clock import clock

log = logging.getLogger("app.realtime")

TTL_SECONDS = 60.0


class Presence:
    """The embedded presence: this process's room sockets (`local()` is the hub's rooms)."""

    def __init__(self, local: Callable[[str], set[str]]) -> None:
        self._local = local

    async def enter(self, case_id: str, user_id: str, conn_id: str) -> None:
        return None

    async def leave(self, case_id: str, user_id: str, conn_id: str) -> None:
        return None

    async def in_room(self, case_id: str, user_ids: Iterable[str]) -> set[str]:
        return self._local(case_id) & set(user_ids)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _key(namespace: str, case_id: str) -> str:
    return f"{namespace}:presence:{case_id}"


class RedisPresence(Presence):
    def __init__(self, url: str, namespace: str, local: Callable[[str], set[str]]) -> None:
        super().__init__(local)
        import redis.asyncio as aioredis

        self.namespace = namespace
        self._redis: Any = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self._mine: dict[tuple[str, str], str] = {}  # (case, socket) -> user: ours to renew
        self._renewer: asyncio.Task[None] | None = None

    async def enter(self, case_id: str, user_id: str, conn_id: str) -> None:
        self._mine[(case_id, conn_id)] = user_id
        with contextlib.suppress(Exception):
            await self._redis.zadd(
                _key(self.namespace, case_id), {f"{user_id} {conn_id}": clock.wall() + TTL_SECONDS}
            )

    async def leave(self, case_id: str, user_id: str, conn_id: str) -> None:
        self._mine.pop((case_id, conn_id), None)
        with contextlib.suppress(Exception):
            await self._redis.zrem(_key(self.namespace, case_id), f"{user_id} {conn_id}")

    async def in_room(self, case_id: str, user_ids: Iterable[str]) -> set[str]:
        wanted = set(user_ids)
        if not wanted:
            return set()
        here = self._local(case_id) & wanted
        if here == wanted:
            return here
        try:
            members = await self._redis.zrangebyscore(
                _key(self.namespace, case_id), clock.wall(), "+inf"
            )
        except Exception as e:
            log.warning("presence unknown (redis: %s): counting them as away", e)
            return here
        return here | ({m.decode().split(" ")[0] for m in members} & wanted)

    async def start(self) -> None:
        self._renewer = asyncio.create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(TTL_SECONDS / 3)
            lapse = clock.wall() + TTL_SECONDS
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for (case_id, conn_id), user_id in list(self._mine.items()):
                        pipe.zadd(_key(self.namespace, case_id), {f"{user_id} {conn_id}": lapse})
                        # Entries of processes that died lapse; drop them now and then.
                        pipe.zremrangebyscore(_key(self.namespace, case_id), "-inf", clock.wall())
                    await pipe.execute()
            except Exception as e:
                log.warning("presence not renewed (redis: %s)", e)

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(BaseException):
                await self._renewer
        for (case_id, conn_id), user_id in list(self._mine.items()):
            await self.leave(case_id, user_id, conn_id)
        with contextlib.suppress(Exception):
            await self._redis.aclose()


_installed: Presence | None = None
_reader: Presence | None = None


def install(presence: Presence | None) -> None:
    """The hub's presence for this process (app/realtime/lifespan.py), or None at stop."""
    global _installed
    _installed = presence


async def enter(case_id: str, user_id: str, conn_id: str) -> None:
    """A socket of this process is in the case's room from now on."""
    if _installed is not None:
        await _installed.enter(case_id, user_id, conn_id)


async def leave(case_id: str, user_id: str, conn_id: str) -> None:
    if _installed is not None:
        await _installed.leave(case_id, user_id, conn_id)


async def in_room(case_id: str, user_ids: Iterable[str]) -> set[str]:
    """Of `user_ids`, those with a live socket open in the case's room (in any process)."""
    global _reader
    presence = _installed
    if presence is None:
        # A process without a hub (the worker): it has no sockets, but Redis knows others'.
        from app.core.config import get_settings

        s = get_settings()
        if not s.redis_url:
            return set()
        if _reader is None:
            _reader = RedisPresence(s.redis_url, s.ws_channel, lambda _case: set())
        presence = _reader
    return await presence.in_room(case_id, user_ids)
