"""Messages of a case's consult room, and the per-case counter that numbers them."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import new_id, ts_field


class Message(SQLModel, table=True):
    """One message in a case's room. `seq` numbers a case's messages 1, 2, 3... and only grows;
    `client_msg_id` lets a client resend after a drop without the message being stored twice."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_message_case_seq"),
        UniqueConstraint("case_id", "sender_id", "client_msg_id", name="uq_message_client_msg"),
    )

    id: str = Field(default_factory=lambda: new_id("msg"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", max_length=40)
    seq: int
    sender_id: str = Field(max_length=40)
    sender_role: str = Field(max_length=20)
    body: str = Field(max_length=8000)
    client_msg_id: str = Field(max_length=100)
    created_at: datetime = ts_field(default_factory=utcnow)


class MessageCounter(SQLModel, table=True):
    """The last seq handed out per case. One atomic upsert allocates the next number: its row
    lock (PostgreSQL) or the write lock (SQLite) orders a case's messages by commit."""

    __tablename__ = "message_counter"

    case_id: str = Field(foreign_key="case.id", primary_key=True, max_length=40)
    last_seq: int = 0
