"""Who is told what, decided in the transaction of the change (the outbox): each listener
writes in-app notifications and their deliveries beside the event that causes them, so a
change that rolls back tells nobody and one that commits is sent even after a crash."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.cases.models import Case, Urgency
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.principal import Role
from app.core.queries import Statement, queries
from app.events.models import OutboxEvent
from app.events.service import listen
from app.followups.models import FollowUp
from app.notifications import round_changes
from app.notifications.content import link
from app.notifications.kinds import Kind
from app.notifications.models import MessageGather
from app.notifications.service import notify
from app.organizations.models import Organization
from app.realtime import presence
from app.rounds.models import RoundSeries


async def case_facts(session: AsyncSession, case_id: str) -> tuple[Case | None, dict[str, Any]]:
    """The case and the few facts about it a message may carry."""
    case = await session.get(Case, case_id)
    if case is None:
        return None, {}
    org = await session.get(Organization, case.organization_id)
    return case, {
        "specialty": case.specialty,
        "urgency": case.urgency,
        "country": org.country if org else None,
        "deadline": case.respond_by.isoformat(),
    }


async def coordinators(session: AsyncSession) -> list[str]:
    return list(
        (
            await session.scalars(
                select(col(User.id)).where(
                    col(User.role) == Role.coordinator.value, col(User.active).is_(True)
                )
            )
        ).all()
    )


def _has(payload: dict[str, Any], *keys: str) -> bool:
    """An event without what the message needs tells nobody (rather than failing the
    change that emitted it)."""
    return all(payload.get(k) for k in keys)


@listen("offer.created")
async def offer_made(session: AsyncSession, event: OutboxEvent) -> None:
    p = event.payload
    if not _has(p, "case_id", "offer_id", "expires_at"):
        return
    case, facts = await case_facts(session, p["case_id"])
    if case is None:
        return
    for uid in event.audience:
        await notify(
            session,
            uid,
            Kind.offer,
            data={**facts, "deadline": p["expires_at"]},
            link=link(f"/offers/{p['offer_id']}"),
            case_id=case.id,
            urgent=case.urgency == Urgency.emergency,
        )


@listen("matching.unmatched")
async def case_unmatched(session: AsyncSession, event: OutboxEvent) -> None:
    case, facts = await case_facts(session, event.resource_id)
    if case is None:
        return
    for uid in event.audience:
        await notify(
            session,
            uid,
            Kind.case_unmatched,
            # Taken back from a deactivated specialist: the email says so (a code, no text).
            data={**facts, "stage": event.payload.get("reason")}
            if event.payload.get("reason") in ("specialist_deactivated", "specialist_role_changed")
            else facts,
            link=link(f"/cases/{case.id}"),
            case_id=case.id,
            urgent=case.urgency == Urgency.emergency,
        )


@listen("case.participant_added")
async def case_added(session: AsyncSession, event: OutboxEvent) -> None:
    """The one added (an interpreter, a second specialist) is told, not the one who added."""
    p = event.payload
    if not _has(p, "case_id", "user_id", "role") or p["user_id"] == p.get("actor_id"):
        return
    case, facts = await case_facts(session, p["case_id"])
    if case is None:
        return
    await notify(
        session,
        p["user_id"],
        Kind.case_added,
        data={**facts, "role": p["role"]},
        link=link(f"/cases/{case.id}"),
        case_id=case.id,
        urgent=case.urgency == Urgency.emergency,
    )


@listen("case.overdue")
async def case_overdue(session: AsyncSession, event: OutboxEvent) -> None:
    case, facts = await case_facts(session, event.resource_id)
    if case is None:
        return
    for uid in await coordinators(session):
        await notify(
            session,
            uid,
            Kind.case_overdue,
            data=facts,
            link=link(f"/cases/{case.id}"),
            case_id=case.id,
            dedupe_key=f"overdue:{case.id}:{uid}",
        )


@listen("note.signed")
async def note_signed(session: AsyncSession, event: OutboxEvent) -> None:
    p = event.payload
    if not _has(p, "case_id", "note_id"):
        return
    case, facts = await case_facts(session, p["case_id"])
    if case is None:
        return
    for uid in event.audience:
        await notify(
            session,
            uid,
            Kind.note_signed,
            data={"specialty": facts["specialty"]},
            link=link(f"/notes/{p['note_id']}"),
            case_id=case.id,
        )


async def _followup(session: AsyncSession, event: OutboxEvent, kind: Kind) -> None:
    # The description is clinical text: only the due time goes out.
    p = event.payload
    if not _has(p, "due_at", "follow_up_id"):
        return
    for uid in event.audience:
        await notify(
            session,
            uid,
            kind,
            data={"deadline": p["due_at"]},
            link=link(f"/follow-ups/{p['follow_up_id']}"),
            case_id=p.get("case_id"),
            # The overdue notice is sent once per follow-up, due time and person, however
            # often told (planned again for a later time, it may be late again).
            dedupe_key=f"followup-overdue:{p['follow_up_id']}:{p['due_at']}:{uid}"
            if kind is Kind.followup_overdue
            else None,
        )


@listen("followup.created")
async def followup_planned(session: AsyncSession, event: OutboxEvent) -> None:
    """Planned for someone else: she hears now, not only when it falls due, so the clinic can
    plan the patient's visit. One planned for herself is no news to her."""
    fu = await session.get(FollowUp, event.resource_id)
    if fu is None or fu.assignee_id == fu.created_by_id:
        return
    await _given(session, event, fu.assignee_id)


@listen("followup.updated")
async def followup_handed_on(session: AsyncSession, event: OutboxEvent) -> None:
    """Handed to another owner: the new one hears (not the one who handed it to herself)."""
    p = event.payload
    new, old = p.get("assignee_id"), p.get("from_assignee_id")
    if new and old and new != old and new in event.audience:
        await _given(session, event, new)


async def _given(session: AsyncSession, event: OutboxEvent, uid: str) -> None:
    p = event.payload
    if not _has(p, "due_at", "follow_up_id"):
        return
    if datetime.fromisoformat(p["due_at"]) <= utcnow():
        return  # due already: the due notice, sent at the next pass, says it (one mail, not two)
    await notify(
        session,
        uid,
        Kind.followup_assigned,
        data={"deadline": p["due_at"]},  # the description is clinical text: never sent
        link=link(f"/follow-ups/{p['follow_up_id']}"),
        case_id=p.get("case_id"),
    )


@listen("followup.due")
async def followup_due(session: AsyncSession, event: OutboxEvent) -> None:
    await _followup(session, event, Kind.followup_due)


@listen("followup.overdue")
async def followup_overdue(session: AsyncSession, event: OutboxEvent) -> None:
    await _followup(session, event, Kind.followup_overdue)


@listen("round.reminder")
async def round_reminder(session: AsyncSession, event: OutboxEvent) -> None:
    p = event.payload
    if not _has(p, "round_id", "start"):
        return
    minutes = p.get("duration_minutes")  # the meeting's own (reminders written since)
    if not isinstance(minutes, int):
        series = await session.get(RoundSeries, p["round_id"])
        minutes = series.duration_minutes if series else 60
    data = {
        "round_id": p["round_id"],
        "title": p.get("title"),
        "start": p["start"],
        "duration_minutes": minutes,
    }
    for uid in event.audience:
        await notify(
            session,
            uid,
            Kind.round_reminder,
            data=data,
            link=link(f"/rounds/{p['round_id']}"),
            dedupe_key=f"round:{p['round_id']}:{p['start']}:{uid}",
        )


@listen("round.updated")
async def round_updated(session: AsyncSession, event: OutboxEvent) -> None:
    """A meeting moved or cancelled, a new schedule, the round removed: its participants
    are told (not the one who changed it); someone added is told she was (round_changes.py)."""
    await round_changes.round_updated(session, event)


@listen("message.created")
async def gather_message(session: AsyncSession, event: OutboxEvent) -> None:
    """Count the message toward one email per case per window for each participant who is
    offline: no live socket open in the case's room, in any process (app.realtime.presence).
    Whoever is there (the writer, anyone with the room open) sees it: their window closes."""
    p = event.payload
    if not _has(p, "case_id"):
        return
    case_id, sender, seq = p["case_id"], p.get("sender_id"), int(p.get("seq") or 0)
    others = [uid for uid in event.audience if uid != sender]
    here = await presence.in_room(case_id, others)
    there = ([sender] if sender else []) + sorted(here)
    # A message is the room's hottest write: its windows are closed and counted on the fast
    # lane (app.core.queries), one statement each; only a window's opening uses the ORM.
    db = await queries(session)
    for uid in there:
        await db.execute(_CLOSE, {"user_id": uid, "case_id": case_id})
    now = utcnow()
    due = now + timedelta(minutes=get_settings().message_gather_minutes)
    for uid in others:
        if uid in here:
            continue
        if await _count(session, uid, case_id, seq):
            continue
        try:
            async with session.begin_nested():
                session.add(
                    MessageGather(
                        user_id=uid,
                        case_id=case_id,
                        first_at=now,
                        due_at=due,
                        count=1,
                        first_seq=seq,
                        last_seq=seq,
                    )
                )
        except IntegrityError:  # a concurrent message opened the window first
            await _count(session, uid, case_id, seq)


_GATHER: Any = MessageGather.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_OPEN_WINDOW = (
    (_GATHER.c.user_id == bindparam("user_id"))
    & (_GATHER.c.case_id == bindparam("case_id"))
    & _GATHER.c.open.is_(True)
)
_CLOSE = Statement(delete(_GATHER).where(_OPEN_WINDOW))
_COUNT = Statement(
    update(_GATHER)
    .where(_OPEN_WINDOW)
    .values(count=_GATHER.c.count + 1, last_seq=bindparam("seq"))
    .returning(_GATHER.c.id)
)


async def _count(session: AsyncSession, uid: str, case_id: str, seq: int) -> bool:
    """One more message in the person's open window of this case; False when none is open."""
    db = await queries(session)
    return await db.fetchrow(_COUNT, {"user_id": uid, "case_id": case_id, "seq": seq}) is not None
