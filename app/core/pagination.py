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
# What encode_cursor makes: base64url data, a dot, a 16-hex-digit signature; or nothing
# (`?cursor=`), which every list reads as its first page, so the schema says so too.
CURSOR_PATTERN = r"^([A-Za-z0-9_-]+\.[0-9a-f]{16})?$"

# A consult message's `seq` is a 32-bit integer in the database (PostgreSQL's integer): a
# larger one is refused as malformed rather than reaching the driver.
MAX_SEQ = 2**31 - 1

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


def encode_cursor(value: Any, kind: str) -> str:
    """A cursor for the list named `kind`: signed, and refused by any other list."""
    raw = json.dumps([kind, value], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + _sign(raw)


def decode_cursor(cursor: str, kind: str) -> Any:
    """The value of a cursor `encode_cursor` made for this list, or 400: an altered cursor,
    and one from another list (whose value means something else here), are refused."""
    try:
        data, sig = cursor.rsplit(".", 1)
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        if not hmac.compare_digest(sig, _sign(raw)):
            raise ValueError("bad signature")
        decoded = json.loads(raw)
        if not isinstance(decoded, list) or len(decoded) != 2:
            raise ValueError("not a cursor of this service")
        made_for, value = decoded
    except (ValueError, TypeError) as e:
        raise BadRequest("The cursor is invalid or was altered.", code="invalid-cursor") from e
    if made_for != kind:
        raise BadRequest("This cursor belongs to another list.", code="invalid-cursor")
    return value


def page_of(
    rows: list[Any], limit: int, kind: str, key: Any = "id"
) -> tuple[list[Any], str | None]:
    """A page read as `limit + 1` rows (the fast lane's lists): the first `limit`, and the
    next page's cursor for the list `kind` when there was one more. `key` names the row's
    key (a dict's key, or a tuple's index)."""
    page = rows[:limit]
    nxt = encode_cursor(page[-1][key], kind) if len(rows) > limit and page else None
    return page, nxt


def list_kind(key_column: Any) -> str:
    """The name a keyset list's cursors carry: its table and key column."""
    return f"{key_column.class_.__tablename__}.{key_column.key}"


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
        after = decode_cursor(cursor, list_kind(key_column))
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
        value = getattr(last, key_name) if scalars else last._mapping[key_name]
        nxt = encode_cursor(value, list_kind(key_column))
    return rows, nxt
