"""Offers: a case proposed to one specialist, until accepted, declined or expired."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from app.cases.models import Case
from app.core.db import Timestamped, json_field, new_id, ts_field


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # another specialist accepted first, or the case was cancelled


class Offer(Timestamped, table=True):
    __tablename__ = "offer"
    __table_args__ = (
        Index("ix_offer_specialist_status", "specialist_id", "status"),
        Index("ix_offer_status_expires", "status", "expires_at"),
        # A specialist is offered a case at most once: re-offers go down the ranking.
        UniqueConstraint("case_id", "specialist_id", name="uq_offer_case_specialist"),
    )

    id: str = Field(default_factory=lambda: new_id("off"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=40)
    specialist_id: str = Field(foreign_key="user.id", max_length=40)
    status: str = Field(default=OfferStatus.pending.value, max_length=12)
    rank: int = 0
    score: float = 0.0
    score_parts: dict[str, Any] = json_field(default_factory=dict)
    interpreter_needed: bool = False
    offered_by_id: str | None = Field(default=None, max_length=40)  # None: automatic
    expires_at: datetime = ts_field()
    responded_at: datetime | None = ts_field(default=None)
    decline_reason: str | None = Field(default=None, max_length=1000)


# Matching counts each specialist's open and past cases for load, responsiveness and
# fairness; this index turns each count into an index-only probe.
_case = Case.__table__  # type: ignore[attr-defined]
Index(
    "ix_case_specialist_status",
    _case.c.assigned_specialist_id,
    _case.c.status,
    _case.c.organization_id,
)
# Set-wise: who has open cases (load), who has helped a facility (continuity).
Index("ix_case_status_specialist", _case.c.status, _case.c.assigned_specialist_id)
Index("ix_case_org_specialist", _case.c.organization_id, _case.c.assigned_specialist_id)
