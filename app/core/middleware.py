"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput): body limit, metrics."""

import time
from urllib.parse import parse_qsl

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.core.errors import internal_error, log_unexpected, problem_response
from app.core.observability import route_template
from app.core.routing import API_PREFIX

_API = API_PREFIX + "/"

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# Each (method, route, status)'s two series, found once: `labels()` checks and locks on
# every call (~2% of a simple read's time, twice). It holds what prometheus_client holds.
_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


class NulRefusalMiddleware:
    """422 for a path or query parameter holding a NUL character: no database stores one in
    text (PostgreSQL refuses it), so it is refused as invalid before anything reads it.
    Under the API every route refuses it itself (app.core.routing.refuse_nul), before any
    work and in its own format: a FHIR route answers an OperationOutcome, not problem+json.
    This covers the rest (the console's pages, the probes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_API):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        pointers = ["#path"] if "\x00" in scope["path"] else []
        if b"%00" in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            pointers += [f"#query/{k.replace(chr(0), '')}" for k, v in pairs if "\x00" in k + v]
        if not pointers:
            await self.app(scope, receive, send)
            return
        resp = problem_response(
            422,
            "validation-error",
            "Validation failed",
            "A parameter holds a NUL character.",
            instance=scope["path"].replace("\x00", ""),
            errors=[{"pointer": p, "detail": "may not hold NUL characters"} for p in pointers],
        )
        await resp(scope, receive, send)


class BodyLimitMiddleware:
    """413 for bodies over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _limit(self, path: str) -> int:
        s = get_settings()
        if path.endswith("/attachments"):
            return s.max_attachment_bytes + 64 * 1024  # multipart framing
        return s.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(scope, receive, send, limit)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge(_too_large(scope["path"])[1])
            return msg

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(scope, receive, send, limit)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        path = scope["path"]
        max_bytes, detail = _too_large(path)
        resp = problem_response(
            413,
            "payload-too-large",
            "Payload too large",
            detail,
            instance=path,
            extra={"max_bytes": max_bytes},
        )
        await resp(scope, receive, send)


def _too_large(path: str) -> tuple[int, str]:
    """The limit a person can act on, as the route's own attachment-too-large names it: a
    file's (without the multipart framing the body's limit adds), else the body's."""
    s = get_settings()
    if path.endswith("/attachments"):
        n = s.max_attachment_bytes
        return n, f"The file is larger than the {n} bytes an attachment may be."
    n = s.max_body_bytes
    return n, f"The body is larger than the {n} bytes a request may be."


class _TooLarge(HTTPException):
    """Raised from receive(): FastAPI passes HTTPExceptions from body parsing through, so a
    streamed body over the limit is 413 whether this middleware or the route sees it first."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


# Every answer may carry patient data: no cache (a shared clinic computer, a proxy) keeps
# it unless the route says otherwise, and no browser guesses a type the server did not say.
_SAFE_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


def _with_safe_headers(msg: Message) -> None:
    headers = list(msg.get("headers", []))
    present = {k.lower() for k, _ in headers}
    headers.extend((k, v) for k, v in _SAFE_HEADERS if k not in present)
    msg["headers"] = headers


class UnhandledErrorMiddleware:
    """The last word on every answer: the headers every answer carries (`_SAFE_HEADERS`),
    and on a crash a problem+json 500 and a log line without the exception's text.
    (Starlette's own server-error path re-raises, and the server would then log the
    message, which may quote patient data.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                _with_safe_headers(msg)
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log_unexpected(scope["method"], scope["path"], exc)
            if not started:
                await internal_error(scope["path"])(scope, receive, send_wrapper)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method, name = scope["method"], route_template(scope)
            key = (method, name, status["code"])
            series = _series.get(key)
            if series is None:
                series = _series[key] = (
                    REQUESTS.labels(method, name, str(status["code"])),
                    LATENCY.labels(method, name),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - start)
