"""Messages: numbering, deduplication, the event that announces them. No HTTP here."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.lifecycle import audience
from app.cases.models import Case, CaseParticipant
from app.consults.models import Message, MessageCounter
from app.core.db import is_postgres
from app.core.pagination import keyset_page
from app.core.principal import Principal
from app.events.service import emit

MESSAGE_CREATED = "message.created"


async def case_people(session: AsyncSession, case: Case) -> list[str]:
    """Everyone a case's events concern directly: submitter, specialist, added participants."""
    added = (
        await session.scalars(
            select(col(CaseParticipant.user_id)).where(col(CaseParticipant.case_id) == case.id)
        )
    ).all()
    return list(dict.fromkeys([*audience(case), *added]))


async def _next_seq(session: AsyncSession, case_id: str) -> int:
    """One atomic upsert: concurrent writers of one case queue on the counter row."""
    ins = (pg_insert if is_postgres(session) else sqlite_insert)(MessageCounter)
    stmt = (
        ins.values(case_id=case_id, last_seq=1)
        .on_conflict_do_update(
            index_elements=["case_id"],
            set_={"last_seq": MessageCounter.last_seq + 1},
        )
        .returning(col(MessageCounter.last_seq))
    )
    return int((await session.execute(stmt)).scalar_one())


async def _find(
    session: AsyncSession, case_id: str, sender_id: str, client_msg_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            col(Message.case_id) == case_id,
            col(Message.sender_id) == sender_id,
            col(Message.client_msg_id) == client_msg_id,
        )
    )


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
    """Store a message (or find the one this client already sent); True when it is new."""
    existing = await _find(session, case.id, p.id, client_msg_id)
    if existing is not None:
        return existing, False
    try:
        # A savepoint: a concurrent resend that won the unique constraint undoes our seq too.
        async with session.begin_nested():
            msg = Message(
                case_id=case.id,
                seq=await _next_seq(session, case.id),
                sender_id=p.id,
                sender_role=p.role.value,
                body=body,
                client_msg_id=client_msg_id,
            )
            session.add(msg)
            await session.flush()
    except IntegrityError:
        again = await _find(session, case.id, p.id, client_msg_id)
        if again is None:
            raise
        return again, False
    await emit(
        session,
        MESSAGE_CREATED,
        "message",
        msg.id,
        organization_id=case.organization_id,
        audience=await case_people(session, case),
        payload=as_dict(msg),
    )
    await audit.append(session, p, "message.create", "case", case.id, detail=f"seq={msg.seq}")
    return msg, True


async def list_messages(
    session: AsyncSession, p: Principal, case: Case, after_seq: int, limit: int, cursor: str | None
) -> tuple[list[Message], str | None]:
    stmt = select(Message).where(col(Message.case_id) == case.id, col(Message.seq) > after_seq)
    items, nxt = await keyset_page(session, stmt, Message.seq, limit, cursor, descending=False)
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
