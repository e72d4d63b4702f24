"""Login throttling: in memory for one process, in Redis when several share the work."""

import time
from collections import defaultdict, deque
from typing import Protocol


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one attempt; return seconds to wait if over the limit, else None."""

    async def reset(self, key: str) -> None: ...


class MemoryLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        now = time.monotonic()
        q = self._hits[key]
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            return max(1, int(q[0] + window - now) + 1)
        q.append(now)
        return None

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisLimiter:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        k = f"ratelimit:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # The window starts at the first attempt; NX keeps later hits from extending it.
                pipe.incr(k)
                pipe.expire(k, window, nx=True)
                count, _ = await pipe.execute()
            if count > limit:
                ttl = await self._redis.ttl(k)
                return max(1, int(ttl))
        except Exception:
            return None  # Redis down: do not lock everybody out
        return None

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(f"ratelimit:{key}")
        except Exception:
            pass


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    global _limiter
    if _limiter is None:
        from app.core.config import get_settings

        url = get_settings().redis_url
        _limiter = RedisLimiter(url) if url else MemoryLimiter()
    return _limiter


def reset_limiter() -> None:
    """Forget the limiter and every count (tests call it between tests)."""
    global _limiter
    _limiter = None
    from app.core.config import get_settings

    url = get_settings().redis_url
    if url:
        import redis

        r = redis.Redis.from_url(url)
        try:
            keys = list(r.scan_iter("ratelimit:*"))
            if keys:
                r.delete(*keys)
        except redis.RedisError:
            pass
        finally:
            r.close()
