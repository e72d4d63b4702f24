"""Matching's indexes on cases. Offers themselves are part of a case (app.cases.models):
who may see a case depends on them, and cases must not import matching."""

from typing import Any

from sqlalchemy import Index, inspect
from sqlalchemy.orm import Mapper

from app.cases.models import Case

# Matching counts each specialist's open and past cases for load, responsiveness and
# fairness; this index turns each count into an index-only probe.
_mapper: Mapper[Any] = inspect(Case)
_case = _mapper.local_table
Index(
    "ix_case_specialist_status",
    _case.c.assigned_specialist_id,
    _case.c.status,
    _case.c.organization_id,
)
# Set-wise: who has open cases (load), who has helped a facility (continuity).
Index("ix_case_status_specialist", _case.c.status, _case.c.assigned_specialist_id)
Index("ix_case_org_specialist", _case.c.organization_id, _case.c.assigned_specialist_id)
