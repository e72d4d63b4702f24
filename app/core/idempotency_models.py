"""Stored answers to POSTs sent with an Idempotency-Key."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import json_field, ts_field, utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal_id", "key", name="uq_idempotency_record_key"),)

    id: int | None = Field(default=None, primary_key=True)
    principal_id: str = Field(max_length=40)
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int
    body: str
    headers: dict[str, str] = json_field(default_factory=dict)
    created_at: datetime = ts_field(default_factory=utcnow, index=True)
