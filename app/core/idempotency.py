"""Idempotency-Key on POST: the same key and body answer the first response again.

The stored answer is written in the same transaction as the work, so a replay can never
report work that did not commit. A duplicate that arrives while the first is still in
flight is 409: PostgreSQL tells us through a transaction-scoped advisory lock, and the
embedded SQLite mode (one process) through an in-process set.
"""

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config import get_settings
from app.core.db import is_postgres, utcnow
from app.core.deps import SessionDep, client_ip
from app.core.errors import AppError, Conflict, Unprocessable
from app.core.idempotency_models import IdempotencyRecord
from app.core.security import peek_subject

_in_flight: set[str] = set()
_T = IdempotencyRecord.__table__  # type: ignore[attr-defined]
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


def replay_response(record: IdempotencyRecord) -> Response:
    headers = dict(record.headers)
    headers["Idempotent-Replayed"] = "true"
    return Response(content=record.body, status_code=record.status_code, headers=headers)


def _fingerprint(request: Request, body: bytes) -> str:
    h = hashlib.sha256()
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


async def _body_digest(request: Request) -> bytes:
    """The body as sent; for form and multipart routes FastAPI has already consumed the
    stream, so the parsed form (files hashed in chunks) stands in for it."""
    try:
        return _without_boundary(request, await request.body())
    except RuntimeError:  # "Stream consumed": a Form()/File() route
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


async def _try_lock(session: AsyncSession, name: str) -> bool:
    if is_postgres(session):
        got = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": name}
        )
        return bool(got)
    if name in _in_flight:
        return False
    _in_flight.add(name)
    return True


async def idempotency_guard(request: Request, session: SessionDep) -> AsyncIterator[None]:
    key = request.headers.get("idempotency-key")
    if not key:
        yield
        return
    if len(key) > 255:
        raise Unprocessable(
            "Idempotency-Key is at most 255 characters.",
            errors=[{"pointer": "#header/Idempotency-Key", "detail": "too long"}],
        )
    auth = request.headers.get("authorization", "")
    subject = peek_subject(auth[7:]) if auth.lower().startswith("bearer ") else None
    # Unauthenticated POSTs (the token endpoint) are scoped by address instead.
    principal_id = subject or f"ip:{client_ip(request)}"
    fingerprint = _fingerprint(request, await _body_digest(request))
    # Not NUL: PostgreSQL text (hashtext) refuses it. Principal ids never contain "|".
    name = f"{principal_id}|{key}"
    if not await _try_lock(session, name):
        raise Conflict(
            "A request with this Idempotency-Key is still in progress.",
            code="idempotency-in-flight",
        )
    try:
        ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
        # Core statements on plain rows: this runs on every POST.
        existing = (
            await session.execute(
                select(_T).where(_T.c.principal_id == principal_id, _T.c.key == key)
            )
        ).first()
        if existing is not None and existing.created_at < utcnow() - ttl:
            await session.execute(delete(_T).where(_T.c.id == existing.id))
            existing = None
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was used with a different request body.",
                    code="idempotency-key-reused",
                    errors=[
                        {"pointer": "#header/Idempotency-Key", "detail": "reused with another body"}
                    ],
                )
            raise IdempotentReplay(existing)
        yield
        response: Response | None = getattr(request.state, "response", None)
        if response is not None and response.status_code < 500 and hasattr(response, "body"):
            headers = {k: v for k, v in response.headers.items() if k in REPLAY_HEADERS}
            values = {
                "principal_id": principal_id,
                "key": key,
                "fingerprint": fingerprint,
                "status_code": response.status_code,
                "body": bytes(response.body).decode(),
                "headers": headers,
                "created_at": utcnow(),
            }
            try:
                # A savepoint on PostgreSQL would cost two more round trips; a duplicate key
                # here fails the request anyway (409), which rolls the transaction back.
                await session.execute(insert(_T), [values])
            except IntegrityError as e:
                raise Conflict(
                    "A request with this Idempotency-Key was just completed.",
                    code="idempotency-in-flight",
                ) from e
    finally:
        _in_flight.discard(name)


async def purge_expired(session: AsyncSession) -> int:
    cutoff = utcnow() - timedelta(hours=get_settings().idempotency_ttl_hours)
    res = await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(getattr(res, "rowcount", 0) or 0)


def replay_body(record: IdempotencyRecord) -> object:
    return json.loads(record.body) if record.body else None
