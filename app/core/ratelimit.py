"""Rate limits: in memory for one process, in Redis when several share the work.

Two uses of one limiter:
- Login throttling (`hit`, `undo`, `remember`, `known`; app.auth.service). Counts are of
  attempts that failed: an attempt is counted before its password is checked (so that
  parallel guesses cannot slip past the limit together) and taken back when it succeeds
  (`undo`). Where a person signed in before is remembered so that a stranger's failures
  elsewhere cannot lock them out.
- The general request limit (`take`, `RateLimitMiddleware`): so many requests per window
  for each principal (the bearer token's subject), or for each client address when the
  request carries no valid token. Fixed windows on the programme's clock
  (app.core.clock): tests move the clock rather than wait. Every answer says where the
  caller stands in the IETF draft's fields (draft-ietf-httpapi-ratelimit-headers-10):
  `RateLimit-Policy: "default";q=<limit>;w=<window>` and `RateLimit: "default";r=<left>;t=<s>`;
  one request too many is 429 problem+json with `Retry-After`.

The in-memory limiter reads all its time from the programme's clock too (sliding login
windows, remembered addresses), so tests move the clock rather than sleep. In production
that clock is the real time (CLOCK_* settings are refused there); Redis's own TTLs keep
the login windows in real seconds.
"""

import math
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.clock import clock
from app.core.config import get_settings
from app.core.errors import problem_response
from app.core.security import InvalidToken, decode_token


@dataclass(frozen=True)
class Quota:
    """Where a caller stands in the current window."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    allowed: bool


def _seconds() -> float:
    """Now on the programme's clock, in seconds (app.core.clock)."""
    return clock.now().timestamp()


def _window(window: int) -> tuple[int, int]:
    """The current fixed window's number, and the whole seconds until it ends (>= 1)."""
    now = _seconds()
    index = int(now // window)
    return index, max(1, math.ceil((index + 1) * window - now))


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

    async def take(self, key: str, limit: int, window: int) -> Quota:
        """Count one request in the current `window`-second window; allowed while at most
        `limit` are counted in it."""


class MemoryLimiter:
    _KNOWN_MAX = 100_000

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._known: OrderedDict[str, float] = OrderedDict()
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        now = _seconds()
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
        self._known[key] = _seconds() + ttl
        while len(self._known) > self._KNOWN_MAX:
            self._known.popitem(last=False)

    async def known(self, key: str) -> bool:
        until = self._known.get(key)
        return until is not None and until > _seconds()

    async def take(self, key: str, limit: int, window: int) -> Quota:
        index, reset = _window(window)
        seen, count = self._windows.get(key, (index, 0))
        count = count + 1 if seen == index else 1
        self._windows[key] = (index, count)
        if len(self._windows) > self._KNOWN_MAX:  # forget callers of windows gone by
            self._windows = {k: v for k, v in self._windows.items() if v[0] >= index}
        return Quota(limit, max(0, limit - count), reset, count <= limit)


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

    async def take(self, key: str, limit: int, window: int) -> Quota:
        index, reset = _window(window)
        k = f"{self._ns}ratelimit:w:{key}:{index}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(k)
                # Kept a little past its window (the window is the clock's; Redis's own
                # time only clears the key away).
                pipe.expire(k, window + 60, nx=True)
                count, _ = await pipe.execute()
        except Exception:
            return Quota(limit, limit, reset, True)  # Redis down: nobody is refused
        return Quota(limit, max(0, limit - int(count)), reset, int(count) <= limit)


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    global _limiter
    if _limiter is None:
        s = get_settings()
        url = s.redis_url
        _limiter = RedisLimiter(url, f"{s.ws_channel}:") if url else MemoryLimiter()
    return _limiter


def reset_limiter() -> None:
    """Forget the limiter and every count (tests call it between tests)."""
    global _limiter
    _limiter = None
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


POLICY = "default"


def _caller(scope: Scope) -> str:
    """The bucket: the principal a valid bearer token names, else the client's address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token:
                try:
                    claims = decode_token(token.strip(), "access")
                except InvalidToken:
                    break
                return f"{claims.get('kind') or 'user'}:{claims['sub']}"
            break
    client = scope.get("client")
    return f"ip:{client[0] if client else '-'}"


def quota_headers(quota: Quota, window: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-policy", f'"{POLICY}";q={quota.limit};w={window}'.encode()),
        (b"ratelimit", f'"{POLICY}";r={quota.remaining};t={quota.reset}'.encode()),
    ]


class RateLimitMiddleware:
    """The general request limit (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_SECONDS; 0 turns
    it off) on every HTTP answer but the `exempt` paths (the probes)."""

    def __init__(self, app: ASGIApp, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        s = get_settings()
        limit, window = s.rate_limit_requests, s.rate_limit_window_seconds
        if scope["type"] != "http" or limit <= 0 or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        quota = await get_limiter().take(f"req:{_caller(scope)}", limit, window)
        headers = quota_headers(quota, window)
        if not quota.allowed:
            refusal = problem_response(
                429,
                "rate-limited",
                "Too many requests",
                f"More than {limit} requests in {window} s; try again in {quota.reset} s.",
                instance=scope["path"],
                headers={"Retry-After": str(quota.reset)},
            )
            refusal.raw_headers.extend(headers)
            await refusal(scope, receive, send)
            return

        async def send_with_quota(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg["headers"] = [*msg.get("headers", []), *headers]
            await send(msg)

        await self.app(scope, receive, send_with_quota)
