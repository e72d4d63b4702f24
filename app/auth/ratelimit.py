"""Login throttling: in memory for one process, in Redis when several share the work.

Counts are of attempts that failed: an attempt is counted before its password is checked
(so that parallel guesses cannot slip past the limit together) and taken back when it
succeeds (`undo`). Where a person signed in before is remembered (`remember`, `known`) so
that a stranger's failures elsewhere cannot lock them out (app.auth.service).
"""

import time
from collections import OrderedDict, defaultdict, deque
from typing import Protocol


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one attempt, unless `limit` are counted already in the window: then count
        nothing and return the seconds to wait."""

    async def undo(self, key: str) -> None:
        """Take back the latest attempt `hit` counted (it succeeded)."""

    async def reset(self, key: str) -> None: ...

    async def remember(self, key: str, ttl: int) -> None:
        """Note `key` for `ttl` seconds."""

    async def known(self, key: str) -> bool: ...


class MemoryLimiter:
    _KNOWN_MAX = 100_000

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._known: OrderedDict[str, float] = OrderedDict()

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        now = time.monotonic()
        q = self._hits[key]
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            return max(1, int(q[0] + window - now) + 1)
        q.append(now)
        return None

    async def undo(self, key: str) -> None:
        q = self._hits.get(key)
        if q:
            q.pop()

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    async def remember(self, key: str, ttl: int) -> None:
        self._known.pop(key, None)
        self._known[key] = time.monotonic() + ttl
        while len(self._known) > self._KNOWN_MAX:
            self._known.popitem(last=False)

    async def known(self, key: str) -> bool:
        until = self._known.get(key)
        return until is not None and until > time.monotonic()


class RedisLimiter:
    def __init__(self, url: str, namespace: str = "") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        # The deployment's own keys (WS_CHANNEL names it): two deployments, or two test
        # runs, on one Redis never count each other's sign-ins.
        self._ns = namespace

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        k = f"{self._ns}ratelimit:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # The window starts at the first attempt; NX keeps later hits from extending it.
                pipe.incr(k)
                pipe.expire(k, window, nx=True)
                count, _ = await pipe.execute()
            if count > limit:
                await self._redis.decr(k)  # refused, so not an attempt that counts
                ttl = await self._redis.ttl(k)
                return max(1, int(ttl))
        except Exception:
            return None  # Redis down: do not lock everybody out
        return None

    async def undo(self, key: str) -> None:
        try:
            await self._redis.decr(f"{self._ns}ratelimit:{key}")
        except Exception:
            pass

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(f"{self._ns}ratelimit:{key}")
        except Exception:
            pass

    async def remember(self, key: str, ttl: int) -> None:
        try:
            await self._redis.set(f"{self._ns}ratelimit:known:{key}", b"1", ex=ttl)
        except Exception:
            pass

    async def known(self, key: str) -> bool:
        try:
            return bool(await self._redis.exists(f"{self._ns}ratelimit:known:{key}"))
        except Exception:
            return False


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    global _limiter
    if _limiter is None:
        from app.core.config import get_settings

        s = get_settings()
        url = s.redis_url
        _limiter = RedisLimiter(url, f"{s.ws_channel}:") if url else MemoryLimiter()
    return _limiter


def reset_limiter() -> None:
    """Forget the limiter and every count (tests call it between tests)."""
    global _limiter
    _limiter = None
    from app.core.config import get_settings

    s = get_settings()
    url = s.redis_url
    if url:
        import redis

        r = redis.Redis.from_url(url)
        try:
            keys = list(r.scan_iter(f"{s.ws_channel}:ratelimit:*"))
            if keys:
                r.delete(*keys)
        except redis.RedisError:
            pass
        finally:
            r.close()
