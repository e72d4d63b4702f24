"""Keeping `case_timing` current.

A case's row is recomputed from its sources (the case, its offers, its first specialist
message, its signed notes and their acknowledgement, its feedback) whenever something may
have changed it:
- signing or acknowledging a note and giving feedback recompute the case's row at once;
- a case, message or note created since the last pass (their ids start with the creation
  time in milliseconds, so "created since" is a primary-key range scan), looking back
  OVERLAP_MS further so a transaction that committed late is not missed;
- a case (or an offer of a case) the outbox announced a change of: every lifecycle
  transition writes one, and so do offers created, expired and withdrawn (a decline is
  followed by a re-offer or the case going unmatched, which write theirs), looking back
  EVENT_OVERLAP events for the same reason.
Recomputing is idempotent, so looking back twice costs a little work and never a wrong row.
The first pass on a database (or `rebuild`) fills the table from every case.
"""

from typing import Any

from sqlalchemy import BigInteger, Select, cast, delete, func, insert, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case, Offer, OfferStatus
from app.core.clock import clock
from app.core.db import is_postgres, take_turns
from app.core.principal import Role
from app.core.queries import fixed
from app.events.models import OutboxEvent
from app.followups.models import Feedback
from app.notes.models import Note, NoteKind, NoteStatus
from app.reporting.models import CaseTiming, ReportingState

try:  # the live-consult domain's messages; without them nobody's first response is timed
    from app.consults.models import Message
except ImportError:  # pragma: no cover - depends on which domains are installed
    Message = None  # type: ignore[assignment,misc]

ANSWERED_OFFERS = (
    OfferStatus.accepted.value,
    OfferStatus.declined.value,
    OfferStatus.expired.value,
)
OVERLAP_MS = 5 * 60 * 1000
EVENT_OVERLAP = 1000
CHUNK = 500
_LOCK = 0x5245504F5254  # "REPORT": one catch-up at a time on PostgreSQL


def seconds(col: Any, pg: bool) -> Any:
    """Whole seconds since 1970 (UTC), truncated: the same integer on both databases."""
    if pg:
        return cast(func.floor(func.extract("epoch", col)), BigInteger)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff'; its date functions would round the fraction
    # to milliseconds (and so sometimes up to the next second): drop the fraction first.
    return cast(func.strftime("%s", func.substr(col, 1, 19)), BigInteger)


def _timing_select(pg: bool, where: Any) -> Any:
    first_signed = (
        select(func.min(col(Note.signed_at)))
        .where(
            col(Note.case_id) == col(Case.id),
            col(Note.kind) == NoteKind.consult.value,
            col(Note.signed_at).is_not(None),
        )
        .scalar_subquery()
    )
    if Message is not None:
        first_msg: Any = (
            select(func.min(col(Message.created_at)))
            .where(
                col(Message.case_id) == col(Case.id),
                col(Message.sender_role) == Role.specialist.value,
            )
            .scalar_subquery()
        )
    else:
        first_msg = None
    signed_notes = (
        select(func.count())
        .where(col(Note.case_id) == col(Case.id), col(Note.status) == NoteStatus.signed.value)
        .scalar_subquery()
    )
    acknowledged = (
        select(func.count())
        .where(
            col(Note.case_id) == col(Case.id),
            col(Note.status) == NoteStatus.signed.value,
            col(Note.acknowledged_at).is_not(None),
        )
        .scalar_subquery()
    )
    fb = select(Feedback).where(col(Feedback.case_id) == col(Case.id))
    feedback_count = fb.with_only_columns(func.count()).scalar_subquery()
    usefulness = fb.with_only_columns(
        func.coalesce(func.sum(col(Feedback.usefulness)), 0)
    ).scalar_subquery()
    changed = (
        fb.with_only_columns(func.count())
        .where(col(Feedback.changed_management).is_(True))
        .scalar_subquery()
    )
    offers = select(func.count()).where(col(Offer.case_id) == col(Case.id))
    accepted = offers.where(col(Offer.status) == fixed(OfferStatus.accepted)).scalar_subquery()
    answered = offers.where(col(Offer.status).in_(ANSWERED_OFFERS)).scalar_subquery()
    created = seconds(col(Case.created_at), pg)
    assigned = seconds(col(Case.assigned_at), pg)
    response = seconds(first_msg, pg) if first_msg is not None else cast(None, BigInteger)
    signed = seconds(first_signed, pg)
    return select(
        col(Case.id),
        col(Case.organization_id),
        col(Case.specialty),
        col(Case.status),
        created,
        seconds(col(Case.respond_by), pg),
        assigned,
        response,
        signed,
        assigned - created,
        response - created,
        signed - created,
        accepted,
        answered,
        signed_notes,
        acknowledged,
        feedback_count,
        usefulness,
        changed,
    ).where(where)


_COLUMNS = [
    "case_id",
    "organization_id",
    "specialty",
    "status",
    "created_s",
    "respond_by_s",
    "assigned_s",
    "first_response_s",
    "first_signed_s",
    "accept_s",
    "response_s",
    "signed_s",
    "offers_accepted",
    "offers_answered",
    "signed_notes",
    "acknowledged_notes",
    "feedback_count",
    "usefulness_sum",
    "changed_management_count",
]


async def recompute(session: AsyncSession, case_ids: list[str] | None) -> int:
    """Rewrite the rows of these cases (all cases when None) from their sources."""
    pg = is_postgres(session)
    # Two writers of one case's row must not interleave their delete and insert.
    await take_turns(session, _LOCK)
    table = CaseTiming.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
    if case_ids is None:
        await session.execute(delete(CaseTiming))
        await session.execute(insert(table).from_select(_COLUMNS, _timing_select(pg, true())))
        return -1
    for i in range(0, len(case_ids), CHUNK):
        chunk = case_ids[i : i + CHUNK]
        await session.execute(delete(CaseTiming).where(col(CaseTiming.case_id).in_(chunk)))
        await session.execute(
            insert(table).from_select(_COLUMNS, _timing_select(pg, col(Case.id).in_(chunk)))
        )
    return len(case_ids)


def _since(prefix: str, ms: int) -> str:
    return f"{prefix}_{max(ms, 0):012x}"


async def _state(session: AsyncSession) -> dict[str, int]:
    return {
        k: v
        for k, v in (
            await session.execute(select(col(ReportingState.key), col(ReportingState.value)))
        ).all()
    }


async def _save(session: AsyncSession, values: dict[str, int]) -> None:
    await session.execute(delete(ReportingState).where(col(ReportingState.key).in_(list(values))))
    await session.execute(
        insert(ReportingState), [{"key": k, "value": v} for k, v in values.items()]
    )


async def catch_up(session: AsyncSession, *, rebuild: bool = False) -> int:
    """Bring case_timing up to date; returns how many cases were recomputed (-1: all)."""
    await take_turns(session, _LOCK)
    await session.flush()
    started_ms = int(clock.wall() * 1000)  # compared with ids, which carry wall time
    last_event = int(
        await session.scalar(select(func.coalesce(func.max(col(OutboxEvent.id)), 0))) or 0
    )
    state = await _state(session)
    if rebuild or "last_run_ms" not in state:
        done = await recompute(session, None)
    else:
        since = state["last_run_ms"] - OVERLAP_MS
        sources: list[Select[str]] = [
            select(col(Case.id).label("case_id")).where(col(Case.id) >= _since("case", since)),
            select(col(OutboxEvent.resource_id).label("case_id")).where(
                col(OutboxEvent.id) > state.get("last_event_id", 0) - EVENT_OVERLAP,
                col(OutboxEvent.resource_type) == "case",
            ),
            select(col(Note.case_id).label("case_id")).where(
                col(Note.id) >= _since("note", since), col(Note.status) == NoteStatus.signed.value
            ),
            select(col(Feedback.case_id).label("case_id")).where(
                col(Feedback.id) >= _since("fb", since)
            ),
            select(col(Offer.case_id).label("case_id")).where(
                col(Offer.id) >= _since("off", since)
            ),
            # Offers that changed (expired, withdrawn, ...): their events name the offer.
            select(col(Offer.case_id).label("case_id"))
            .join(OutboxEvent, col(OutboxEvent.resource_id) == col(Offer.id))
            .where(
                col(OutboxEvent.id) > state.get("last_event_id", 0) - EVENT_OVERLAP,
                col(OutboxEvent.resource_type) == "offer",
            ),
        ]
        if Message is not None:
            sources.append(
                select(col(Message.case_id).label("case_id")).where(
                    col(Message.id) >= _since("msg", since),
                    col(Message.sender_role) == Role.specialist.value,
                )
            )
        ids = sorted(set((await session.scalars(union(*sources))).all()))
        done = await recompute(session, ids)
    await _save(session, {"last_run_ms": started_ms, "last_event_id": last_event})
    await session.flush()
    return done
