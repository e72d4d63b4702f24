"""Keyset pagination with signed, opaque cursors."""

import base64
import hashlib
import hmac
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import get_settings
from app.core.errors import BadRequest

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (max 200).")]
# What encode_cursor makes: base64url data, a dot, a 16-hex-digit signature.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[0-9a-f]{16}$"
Cursor = Annotated[
    str | None,
    Query(
        max_length=500,
        description="`next_cursor` of the previous page.",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _sign(raw: bytes) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, raw, hashlib.sha256).hexdigest()[:16]


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + _sign(raw)


def decode_cursor(cursor: str) -> Any:
    try:
        data, sig = cursor.rsplit(".", 1)
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        if not hmac.compare_digest(sig, _sign(raw)):
            raise ValueError("bad signature")
        return json.loads(raw)
    except (ValueError, TypeError) as e:
        raise BadRequest("The cursor is invalid or was altered.", code="invalid-cursor") from e


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    key_column: Any,
    limit: int,
    cursor: str | None,
    *,
    descending: bool = True,
    scalars: bool = True,
) -> tuple[list[Any], str | None]:
    """One page ordered by a unique, time-sortable key; new rows never shift older pages."""
    if cursor:  # `?cursor=` (empty) is the first page, as a partner would expect
        after = decode_cursor(cursor)
        stmt = stmt.where(key_column < after if descending else key_column > after)
    stmt = stmt.order_by(key_column.desc() if descending else key_column.asc()).limit(limit + 1)
    result = await session.execute(stmt)
    rows = list(result.scalars().all() if scalars else result.all())
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more and rows:
        last = rows[-1]
        key_name = key_column.key
        nxt = encode_cursor(getattr(last, key_name) if scalars else last._mapping[key_name])
    return rows, nxt
