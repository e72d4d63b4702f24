"""A specialist leaves (an admin or a coordinator deactivates her, or an admin changes her
role): the work she held goes back to matching, in that transaction (matching hears the auth
domain's internal `user.deactivated`, app/matching/listeners.py, app/auth/leaving.py).

- Each case assigned to her and not yet answered becomes `unmatched`, exactly as a case
  nobody took: on the coordinators' queue (`GET /cases?status=unmatched`), every active
  coordinator told (`matching.unmatched`), offered again as any other. The reason
  (`specialist_deactivated`) and who she was are in `case.unmatched` and in the case's
  record (app/matching/record.py). Its conversation, attachments, participants and any
  draft note stay on the case; the draft stays a draft. Her accepted offer stays in the
  record.
- Each offer still pending to her is withdrawn; a case left with no open offer passes down
  its ranking, as on a decline (and is unmatched when nobody is left).
- Answered cases keep her signed note and her name: nothing changes there. Reactivating her
  gives nothing back.

Locks: each case row first, in id order (as every offer path takes the case first), then
its offers; every decision is made on the row as read under the lock, so an accept racing
the deactivation leaves one consistent outcome.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.lifecycle import SPECIALIST_DEACTIVATED
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.clock import utcnow
from app.core.db import flush_orm
from app.core.queries import Statement, fixed, queries
from app.events.service import emit
from app.matching.offers import lock_case, notify_unmatched, offer_next, pending_count

_OFFER: Any = Offer.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_WITHDRAW_HERS = Statement(
    update(_OFFER)
    .where(
        _OFFER.c.case_id == bindparam("case_id"),
        _OFFER.c.specialist_id == bindparam("me"),
        _OFFER.c.status == fixed(OfferStatus.pending),
    )
    .values(status=OfferStatus.withdrawn.value, updated_at=bindparam("now"))
    .returning(_OFFER.c.id)
)


async def _cases_held(session: AsyncSession, user_id: str) -> list[str]:
    """Cases assigned to her and not answered, and cases with an offer open to her."""
    assigned = await session.scalars(
        select(col(Case.id)).where(
            col(Case.assigned_specialist_id) == user_id,
            col(Case.status) == CaseStatus.assigned.value,
        )
    )
    offered = await session.scalars(
        select(col(Offer.case_id)).where(
            col(Offer.specialist_id) == user_id, col(Offer.status) == fixed(OfferStatus.pending)
        )
    )
    return sorted({*assigned.all(), *offered.all()})


async def release(
    session: AsyncSession,
    user_id: str,
    actor: audit.Actor,
    now: datetime | None = None,
    reason: str = SPECIALIST_DEACTIVATED,
) -> None:
    """Give back what `user_id` held (see the module's docstring); `reason`: she was
    deactivated, or is no longer a specialist (SPECIALIST_ROLE_CHANGED)."""
    now = now or utcnow()
    actor_id = getattr(actor, "id", None)
    for case_id in await _cases_held(session, user_id):
        case_row = await lock_case(session, case_id)
        await _withdraw_hers(session, case_row, user_id, actor, now, reason)
        if (
            case_row.status == CaseStatus.assigned.value
            and case_row.assigned_specialist_id == user_id
        ):
            case_row.assigned_specialist_id = None
            case_row.assigned_at = None
            await notify_unmatched(
                session, case_row, actor_id, because=reason, specialist_id=user_id
            )
            await session.flush()
            await audit.append(
                session,
                actor,
                "case.unassign",
                "case",
                case_row.id,
                detail=f"reason={reason} specialist={user_id}",
            )
        elif (
            case_row.status == CaseStatus.offered.value
            and await pending_count(session, case_row.id) == 0
        ):
            await offer_next(session, case_row, 1, None, now)


async def _withdraw_hers(
    session: AsyncSession,
    case_row: Case,
    user_id: str,
    actor: audit.Actor,
    now: datetime,
    reason: str,
) -> None:
    """Her offers still pending on the case are withdrawn; she stops seeing the case."""
    await flush_orm(session)
    db = await queries(session)
    params = {"case_id": case_row.id, "me": user_id, "now": db.ts(now)}
    for (offer_id,) in await db.fetch(_WITHDRAW_HERS, params):
        await emit(
            session,
            "offer.withdrawn",
            "offer",
            offer_id,
            audience=[user_id],
            payload={"offer_id": offer_id, "case_id": case_row.id, "case_status": case_row.status},
        )
        await audit.append(
            session,
            actor,
            "offer.withdraw",
            "offer",
            offer_id,
            detail=f"case={case_row.id} reason={reason}",
        )
