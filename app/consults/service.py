"""Messages: numbering, deduplication, the event that announces them. No HTTP here."""

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.lifecycle import audience
from app.cases.models import Case, CaseStatus
from app.cases.service import CaseCancelled
from app.consults.models import Message
from app.core.pagination import decode_cursor, page_of
from app.core.principal import Principal
from app.core.queries import Queries, Statement, queries, row_ts
from app.events.service import emit

MESSAGE_CREATED = "message.created"


_PARTICIPANTS = Statement("SELECT user_id FROM case_participant WHERE case_id = :case_id")


async def case_people(session: AsyncSession, case: Case) -> list[str]:
    """Everyone a case's events concern directly: submitter, specialist, added participants."""
    added = await (await queries(session)).fetch(_PARTICIPANTS, {"case_id": case.id})
    return list(dict.fromkeys([*audience(case), *(r[0] for r in added)]))


# The statements of a message's arrival (the same text on SQLite and PostgreSQL).
_COLUMNS = ("id", "case_id", "seq", "sender_id", "sender_role", "body", "client_msg_id")
_FIND = Statement(
    f"SELECT {', '.join(_COLUMNS)}, created_at FROM message "
    "WHERE case_id = :case_id AND sender_id = :sender_id AND client_msg_id = :client_msg_id"
)
# One atomic upsert: concurrent writers of one case queue on the counter row (PostgreSQL's
# row lock, SQLite's write lock) until their transaction ends.
_NEXT_SEQ = Statement(
    "INSERT INTO message_counter (case_id, last_seq) VALUES (:case_id, 1) "
    "ON CONFLICT (case_id) DO UPDATE SET last_seq = message_counter.last_seq + 1 "
    "RETURNING last_seq"
)
_UNDO_SEQ = Statement(
    "UPDATE message_counter SET last_seq = last_seq - 1 "
    "WHERE case_id = :case_id AND last_seq = :seq"
)
_INSERT = Statement(
    f"INSERT INTO message ({', '.join(_COLUMNS)}, created_at) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}, :created_at) "
    "ON CONFLICT (case_id, sender_id, client_msg_id) DO NOTHING RETURNING id"
)


async def _find(db: Queries, key: dict[str, str]) -> Message | None:
    rows = await db.fetch(_FIND, key)
    if not rows:
        return None
    # The row through the model's column types (SQLite keeps timestamps as text).
    *values, stored_at = rows[0]
    created_at = row_ts(stored_at)
    assert created_at is not None  # NOT NULL
    return Message(**dict(zip(_COLUMNS, values, strict=True)), created_at=created_at)


def as_dict(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "case_id": m.case_id,
        "seq": m.seq,
        "sender_id": m.sender_id,
        "sender_role": m.sender_role,
        "body": m.body,
        "client_msg_id": m.client_msg_id,
        "created_at": m.created_at.isoformat(),
    }


async def post_message(
    session: AsyncSession, p: Principal, case: Case, body: str, client_msg_id: str
) -> tuple[Message, bool]:
    """Store a message (or find the one this client already sent); True when it is new.
    Fast statements only: a message is the room's hottest write."""
    db = await queries(session)
    key = {"case_id": case.id, "sender_id": p.id, "client_msg_id": client_msg_id}
    existing = await _find(db, key)
    if existing is not None:
        return existing, False  # a resend still finds what was stored before the cancel
    if case.status == CaseStatus.cancelled:
        # Sent by mistake and withdrawn: nobody answers there now. Its conversation stays to
        # read. A closed case's room stays open: questions after the close belong to its care.
        raise CaseCancelled(
            "The case was cancelled: its conversation is kept to read, and takes no more messages."
        )
    # Read before the number is taken: from then on the case's other writers wait for this
    # transaction (on PostgreSQL every statement inside is a round trip they wait through).
    people = await case_people(session, case)
    seq_row = await db.fetchrow(_NEXT_SEQ, {"case_id": case.id})
    assert seq_row is not None  # an upsert with RETURNING gives its row
    # Built without validation (the body and its key were validated as the request was
    # read): an instrumented model's checked __init__ cost the room's hottest write ~30 µs.
    msg = Message.model_construct(
        case_id=case.id,
        seq=int(seq_row[0]),
        sender_id=p.id,
        sender_role=p.role.value,
        body=body,
        client_msg_id=client_msg_id,
    )
    values = {c: getattr(msg, c) for c in _COLUMNS}
    if await db.fetchrow(_INSERT, {**values, "created_at": db.ts(msg.created_at)}) is None:
        # A resend of the same message committed first: give its number back (the counter
        # row is still ours until this transaction ends) and answer with what it stored.
        await db.execute(_UNDO_SEQ, {"case_id": case.id, "seq": msg.seq})
        again = await _find(db, key)
        if again is None:  # pragma: no cover - the conflict names exactly this row
            raise RuntimeError("message conflict without a message")
        return again, False
    await emit(
        session,
        MESSAGE_CREATED,
        "message",
        msg.id,
        organization_id=case.organization_id,
        audience=people,
        payload=as_dict(msg),
    )
    await audit.append(session, p, "message.create", "case", case.id, detail=f"seq={msg.seq}")
    return msg, True


_MESSAGE: Any = Message.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
# The page's cursors, as keyset_page names them (its table and key column).
_CURSOR = "message.seq"
_PAGE = Statement(
    select(_MESSAGE)
    .where(_MESSAGE.c.case_id == bindparam("case_id"), _MESSAGE.c.seq > bindparam("after"))
    .order_by(_MESSAGE.c.seq)
    .limit(bindparam("lim"))
)


async def list_messages(
    session: AsyncSession, p: Principal, case: Case, after_seq: int, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page in `seq` order (a read on the fast lane): after `after_seq`, and after the
    cursor's seq when paging on."""
    after = max(after_seq, int(decode_cursor(cursor, _CURSOR))) if cursor else after_seq
    db = await queries(session)
    rows = await db.fetch_dicts(_PAGE, {"case_id": case.id, "after": after, "lim": limit + 1})
    items, nxt = page_of(rows, limit, _CURSOR, key="seq")
    await audit.append(
        session,
        p,
        "message.list",
        "case",
        case.id,
        detail=f"after_seq={after_seq} count={len(items)}",
    )
    return items, nxt


async def messages_between(
    session: AsyncSession, case_id: str, after_seq: int, up_to: int | None = None, limit: int = 500
) -> list[Message]:
    """Stored messages after `after_seq` (and at most `up_to`), in order: what a socket missed."""
    stmt = select(Message).where(col(Message.case_id) == case_id, col(Message.seq) > after_seq)
    if up_to is not None:
        stmt = stmt.where(col(Message.seq) <= up_to)
    return list((await session.scalars(stmt.order_by(col(Message.seq)).limit(limit))).all())


async def last_seq(session: AsyncSession, case_id: str) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.max(Message.seq), 0)).where(col(Message.case_id) == case_id)
        )
        or 0
    )
