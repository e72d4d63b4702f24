"""The append-only, hash-chained access log."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import ts_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field(default_factory=utcnow, index=True)
    actor_id: str | None = Field(default=None, max_length=40, index=True)
    actor_kind: str = Field(max_length=10)
    action: str = Field(max_length=40)
    resource_type: str = Field(max_length=40)
    resource_id: str | None = Field(default=None, max_length=40)
    outcome: str = Field(max_length=10)  # allowed | denied
    ip: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=2000)
    # Empty until app.audit.service.seal chains the entry (appends take no lock).
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """The chain's head as it was at `at`, signed with the audit key (app/audit/checkpoints.py).
    The same checkpoint goes to the log and, as an `audit.checkpoint` event, to webhooks:
    copies outside the database that an edit or a truncation cannot reach."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field(default_factory=utcnow, index=True)
    entry_id: int
    hash: str = Field(max_length=64)
    signature: str = Field(max_length=64)
