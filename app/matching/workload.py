"""A specialist's workload: the cases assigned to them that are still open.

It is a fact about cases, so it is counted here (matching reads cases) and nowhere else:
matching checks capacity with it on accept and scores load with it, and the specialist
directory borrows it by name (`app/specialists/repository.py` finds this module through
the domain registry, as records find `record.py`), so specialists never read cases.
"""

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, func, or_, select
from sqlmodel import col

from app.cases.models import Case, CaseStatus

# Work still owed: a case counts against capacity from acceptance until its note is signed.
ACTIVE_STATUSES = (CaseStatus.assigned.value,)


def active_cases(user_id: ColumnExpressionArgument[str] | str) -> ScalarSelect[int]:
    """Scalar subquery: the specialist's open assigned cases (an index-only probe)."""
    return (
        select(func.count())
        .select_from(Case)
        .where(
            col(Case.assigned_specialist_id) == user_id,
            # Spelled as equalities, not IN: a statement compiled once for the fast lane
            # (the accept's capacity check) cannot bind a list.
            or_(*(col(Case.status) == s for s in ACTIVE_STATUSES)),
        )
        .scalar_subquery()
    )
