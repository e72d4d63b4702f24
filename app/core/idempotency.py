"""Idempotency-Key on POST: the same key and body answer the first response again.

The stored answer is written in the same transaction as the work, so a replay can never
report work that did not commit. A duplicate that arrives while the first is still in
flight is 409: this process knows from an in-process set (`reserve`); other processes on
PostgreSQL from an advisory lock (`check`) that the transaction holds until it ends.
"""

import contextlib
import hashlib
import hmac
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from fastapi import Request, Response
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config import get_settings
from app.core.db import turn_sql, utcnow
from app.core.deps import client_ip, optional_principal
from app.core.errors import PROBLEM, TYPE_BASE, AppError, Conflict, Unprocessable
from app.core.idempotency_models import IdempotencyRecord
from app.core.observability import current_request_id
from app.core.queries import Queries, Statement, queries, row_json, row_ts
from app.core.security import peek_subject

_in_flight: set[str] = set()
REPLAY_HEADERS = ("location", "etag", "content-type")


class IdempotentReplay(AppError):
    """The same request was answered before; send that answer again."""

    def __init__(self, record: Any) -> None:
        super().__init__("replay")
        # A detached copy: the request's rollback expires the loaded row before the handler
        # renders it.
        self.record = IdempotencyRecord.model_construct(
            status_code=record.status_code, body=record.body, headers=dict(record.headers)
        )


def replay_response(record: IdempotencyRecord, path: str) -> Response:
    headers = dict(record.headers)
    headers["Idempotent-Replayed"] = "true"
    body = record.body
    if headers.get("content-type") == PROBLEM:
        # A problem body always names its request (the retry's, quoted when asking for
        # help) and where it was asked: the stored one was written before either existed.
        try:
            problem = json.loads(body)
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            problem["instance"] = path
            if rid := current_request_id():
                problem["request_id"] = rid
            body = json.dumps(problem, separators=(",", ":"))
    return Response(content=body, status_code=record.status_code, headers=headers)


def _fingerprint(request: Request, body: bytes) -> str:
    """Method, path, query and body (or, for uploads, its digest), keyed with the secret
    key: a body may hold a password (POST /users), and a plain hash of it could be guessed
    at offline by whoever reads the table."""
    h = hmac.new(get_settings().secret_key.encode(), digestmod=hashlib.sha256)
    h.update(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    h.update(body)
    return h.hexdigest()


def _without_boundary(request: Request, body: bytes) -> bytes:
    """Most clients pick a fresh multipart boundary for every retry of the same upload."""
    ctype = request.headers.get("content-type", "")
    if ctype.lower().startswith("multipart/") and "boundary=" in ctype:
        boundary = ctype.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
        if boundary:
            return body.replace(boundary.encode("latin-1"), b"")
    return body


class StreamedBody:
    """An upload's body hashed on its way to the endpoint (never held whole in memory):
    the fingerprint of a route that reads its own stream (`AppRoute.streams_body`).
    The multipart boundary is left out, as `_without_boundary` does, chunk by chunk."""

    def __init__(self, request: Request) -> None:
        self.request = request
        ctype = request.headers.get("content-type", "")
        b = ""
        if ctype.lower().startswith("multipart/") and "boundary=" in ctype:
            b = ctype.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
        self._boundary = b.encode("latin-1")
        self._hash = hashlib.sha256()
        self._tail = b""
        self._ended = False

    def _feed(self, chunk: bytes) -> None:
        if not self._boundary:
            self._hash.update(chunk)
            return
        # Keep what could be the start of a boundary split across chunks for the next one.
        data = (self._tail + chunk).replace(self._boundary, b"")
        keep = len(self._boundary) - 1
        self._hash.update(data[: len(data) - keep] if keep else data)
        self._tail = data[len(data) - keep :] if keep else b""

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, as the endpoint reads it."""
        async for chunk in self.request.stream():
            if chunk:
                self._feed(chunk)
            yield chunk
        self._ended = True

    async def digest(self) -> bytes:
        """The body's digest; reads (and drops) whatever the endpoint left unread."""
        if not self._ended:
            async for _ in self.chunks():
                pass
        self._hash.update(self._tail)
        self._tail = b""
        return self._hash.digest()


def body_stream(request: Request) -> AsyncIterator[bytes]:
    """A streaming route's body: hashed on the way when it carries an Idempotency-Key."""
    streamed: StreamedBody | None = getattr(request.state, "streamed_body", None)
    return streamed.chunks() if streamed is not None else request.stream()


def json_typed(request: Request) -> bool:
    """The request says its body is JSON (application/json or a +json type): what the
    pipeline reads as JSON (app.core.routing refuses other bodies with 415)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


async def _canonical(request: Request, raw: bytes) -> bytes | None:
    """A JSON body as the same JSON whatever its spacing and key order (None if it is not
    JSON: the request is refused anyway). A partner's retry queue that stores a case and
    writes it out again sends the same request; compared as bytes it was 422 "used with
    another body". Parsed once: FastAPI takes the parsed body from the request."""
    if not raw or not json_typed(request):
        return None
    try:
        parsed = await request.json()
        # ASCII: a lone surrogate (`"\ud800"`, which json.loads accepts) stays an escape;
        # encoded as UTF-8 it raised, and the request was a 500 rather than its 422.
        text = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return None
    return text.encode()


async def _body_digest(request: Request) -> tuple[bytes, bytes | None]:
    """The body as the fingerprint reads it, and the body as sent when that differs (a JSON
    body, written canonically). For form and multipart routes FastAPI has already consumed
    the stream, so the parsed form (files hashed in chunks) stands in for it."""
    try:
        raw = _without_boundary(request, await request.body())
    except RuntimeError:  # "Stream consumed": a Form()/File() route
        return await _form_digest(request), None
    canonical = await _canonical(request, raw)
    return (raw, None) if canonical is None or canonical == raw else (canonical, raw)


async def _form_digest(request: Request) -> bytes:
    form = await request.form()  # parsed already, returned from Starlette's cache
    h = hashlib.sha256()
    for name, value in form.multi_items():
        h.update(name.encode() + b"\x00")
        if isinstance(value, str):
            h.update(value.encode())
        else:
            h.update((value.filename or "").encode() + b"\x00")
            while chunk := await value.read(1 << 20):
                h.update(chunk)
            await value.seek(0)
        h.update(b"\x00")
    return h.digest()


_LOCK = Statement(turn_sql("pg_try_advisory_xact_lock", text_key=True))  # db.turn_is_free's
_FIND = Statement(
    "SELECT id, fingerprint, status_code, body, headers, created_at FROM idempotency_record "
    'WHERE principal_id = :principal_id AND "key" = :key'
)
_FORGET = Statement("DELETE FROM idempotency_record WHERE id = :id")
_KEEP = Statement(
    "INSERT INTO idempotency_record "
    '(principal_id, "key", fingerprint, status_code, body, headers, created_at) '
    "VALUES (:principal_id, :key, :fingerprint, :status_code, :body, :headers, :created_at)"
)


@dataclass
class Claim:
    """A POST's hold on its Idempotency-Key while it does the work."""

    principal_id: str
    key: str
    fingerprint: str
    lock: str
    # The fingerprint of the body as sent, when the one above reads it canonically (JSON):
    # an answer kept before fingerprints were canonical still replays.
    as_sent: str | None = None
    # The answer's fields that carry a secret (app.core.schemas.SecretField): when there
    # are any, `keep` stores a problem that says the work was done, never the answer.
    secret_fields: tuple[str, ...] = ()
    # A streamed upload's body, hashed on its way (`fingerprint` is "" until it is read).
    streamed: StreamedBody | None = None

    async def settle(self) -> None:
        """Complete a streamed body's fingerprint (reading what is left of the body)."""
        if self.streamed is not None and not self.fingerprint:
            digest = await self.streamed.digest()
            self.fingerprint = _fingerprint(self.streamed.request, digest)


def header_key(raw: str | None) -> str | None:
    """The key a client meant. The IETF draft sends it as a Structured Field string
    (`"8e03..."`), many clients send it bare (`8e03...`): both name the same key."""
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return key or None


def reserve(
    request: Request, body: bytes, subject: str | None, as_sent: bytes | None = None
) -> Claim | None:
    """Before the work, before any database: None without a key; 422 for an over-long key;
    409 when this process already has the same request in flight. `check` then asks the
    database; call `release` when the transaction has ended, whatever happened."""
    key = header_key(request.headers.get("idempotency-key"))
    if not key:
        return None
    if len(key) > 255:
        raise Unprocessable(
            "Idempotency-Key is at most 255 characters.",
            errors=[{"pointer": "#header/Idempotency-Key", "detail": "too long"}],
        )
    # Unauthenticated POSTs (the token endpoint) are scoped by address instead.
    principal_id = subject or f"ip:{client_ip(request)}"
    # Not NUL: PostgreSQL text (hashtext) refuses it. Principal ids never contain "|".
    name = f"{principal_id}|{key}"
    if name in _in_flight:
        raise _in_progress()
    _in_flight.add(name)
    route = request.scope.get("route")
    return Claim(
        principal_id,
        key,
        _fingerprint(request, body),
        name,
        secret_fields=tuple(getattr(route, "secret_fields", ())),
        as_sent=_fingerprint(request, as_sent) if as_sent is not None else None,
    )


def _in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still in progress.",
        code="idempotency-in-flight",
    )


async def check(db: Queries, held: Claim) -> None:
    """Before the work, in its transaction: 409 while another process has the same request
    in flight (PostgreSQL: an advisory lock held until the transaction ends),
    IdempotentReplay when it was answered before, 422 when the key was used with another
    body. (SQLite has one process: `reserve` decided.)"""
    where = {"principal_id": held.principal_id, "key": held.key}
    if db.dialect == "postgresql":
        if not (await db.fetchrow(_LOCK, {"k": held.lock}) or (False,))[0]:
            raise _in_progress()
    existing = await db.fetchrow(_FIND, where)
    ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
    if existing is not None and row_ts(existing[5]) < utcnow() - ttl:  # type: ignore[operator]
        await db.execute(_FORGET, {"id": existing[0]})
        existing = None
    if existing is not None:
        await held.settle()  # a streamed upload's body is read only now, to compare it
        if existing[1] not in (held.fingerprint, held.as_sent):
            raise Unprocessable(
                "This Idempotency-Key was used with a different request body.",
                code="idempotency-key-reused",
                errors=[
                    {"pointer": "#header/Idempotency-Key", "detail": "reused with another body"}
                ],
            )
        raise IdempotentReplay(
            IdempotencyRecord.model_construct(
                status_code=existing[2], body=existing[3], headers=row_json(existing[4])
            )
        )


async def keep(db: Queries, held: Claim, response: Response | None) -> None:
    """With the work's writes: store the answer so a retry gets it again."""
    if response is None or response.status_code >= 500 or not hasattr(response, "body"):
        return
    headers = {k: v for k, v in response.headers.items() if k in REPLAY_HEADERS}
    status_code, body = response.status_code, bytes(response.body).decode()
    if held.secret_fields and status_code < 300:
        status_code, body, headers = _secret_withheld(body, headers, held.secret_fields)
    values = {
        "principal_id": held.principal_id,
        "key": held.key,
        "fingerprint": held.fingerprint,
        "status_code": status_code,
        "body": body,
        "headers": db.json(headers),
        "created_at": db.ts(utcnow()),
    }
    try:
        # No savepoint (two more round trips on PostgreSQL): a duplicate key here fails
        # the request anyway (409), which rolls the transaction back.
        await db.execute(_KEEP, values)
    except _INTEGRITY_ERRORS as e:
        if "idempotency" not in str(getattr(e, "constraint_name", None) or e):
            raise
        raise Conflict(
            "A request with this Idempotency-Key was just completed.",
            code="idempotency-in-flight",
        ) from e


def _secret_withheld(
    body: str, headers: dict[str, str], fields: tuple[str, ...]
) -> tuple[int, str, dict[str, str]]:
    """What a retry of an answer that carried a secret gets instead of it: 409, saying the
    work was done (and where: its `id`, its Location) and that the secret is not kept."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    done = answer.get("id") if isinstance(answer, dict) else None
    problem: dict[str, Any] = {
        "type": TYPE_BASE + "idempotent-secret-withheld",
        "title": "Answered before; its secret is not kept",
        "status": 409,
        "detail": "This request was done before. Its answer carried a secret "
        f"({', '.join(fields)}), which is shown once and never stored"
        + (": the resource is the one `id` names;" if isinstance(done, str) else ";")
        + " issue a new secret (sign in again, rotate the secret) if the first answer "
        "was lost.",
    }
    if isinstance(done, str):
        problem["id"] = done
    kept = {k: v for k, v in headers.items() if k == "location"}
    kept["content-type"] = PROBLEM
    return 409, json.dumps(problem, separators=(",", ":")), kept


def release(held: Claim | None) -> None:
    if held is not None:
        _in_flight.discard(held.lock)


# The ORM's, and the drivers' own (statements on the fast lane: app.core.queries).
_INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    IntegrityError,
    sqlite3.IntegrityError,
    asyncpg.UniqueViolationError,
)


@contextlib.asynccontextmanager
async def guard(request: Request, session: AsyncSession) -> AsyncIterator[Claim | None]:
    """Around a POST's handler, inside its unit of work (app.core.routing). A duplicate in
    flight is refused before anything else (no connection taken); then the bearer token is
    checked, so a revoked token gets 401, never the stored answer; then the answer is
    replayed. The caller hands the handler's response to `finish` before the commit."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    # Only a signed-in caller's POSTs are kept: the others (the token endpoint, revoke)
    # carry credentials in the body and answer with tokens, neither of which is ever
    # written here; a retry of one is simply a new request.
    if not header_key(request.headers.get("idempotency-key")) or not token:
        yield None
        return
    streamed = StreamedBody(request) if _streams_body(request) else None
    body, as_sent = (b"", None) if streamed else await _body_digest(request)
    held = reserve(request, body, peek_subject(token), as_sent)
    assert held is not None  # the request has a key
    try:
        await optional_principal(request, token)
        if streamed is not None:
            # An upload is not read before the work: its fingerprint is made on the way
            # (request.state, `body_stream`), or by `check` when an answer is kept already.
            held.fingerprint, held.streamed = "", streamed
            request.state.streamed_body = streamed
        await check(await queries(session), held)
        yield held
    finally:
        release(held)


async def finish(session: AsyncSession, held: Claim, response: Response) -> None:
    """After the handler, in its transaction: store the answer (a streamed upload's
    fingerprint completed first)."""
    await held.settle()
    await keep(await queries(session), held, response)


def _streams_body(request: Request) -> bool:
    return bool(getattr(request.scope.get("route"), "streams_body", False))


async def purge_expired(session: AsyncSession) -> int:
    cutoff = utcnow() - timedelta(hours=get_settings().idempotency_ttl_hours)
    res = await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(getattr(res, "rowcount", 0) or 0)


def replay_body(record: IdempotencyRecord) -> object:
    return json.loads(record.body) if record.body else None
