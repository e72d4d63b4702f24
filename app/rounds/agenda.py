"""An occurrence's agenda: the host's cases presented, the round's recommendations, and the
cases it could take up next."""

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.cases.access import full_access
from app.cases.lifecycle import OPEN_STATUSES
from app.cases.models import Case, CaseStatus
from app.core.clock import utcnow
from app.core.conditional import check_if_match, etag
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.principal import Principal, Role
from app.rounds.access import can_edit, may_advise
from app.rounds.errors import AgendaItemNotFound, AgendaItemRecommended, flush_unique
from app.rounds.models import RoundAgendaItem, RoundSeries
from app.rounds.occurrences import live_occurrence, resolve_occurrence
from app.rounds.participants import announce, takes_part


async def add_agenda_item(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, data: dict[str, Any]
) -> RoundAgendaItem:
    original = await live_occurrence(session, series, start)
    case = await session.scalar(select(Case).where(col(Case.id) == data["case_id"], full_access(p)))
    if case is None or case.organization_id != series.host_organization_id:
        raise Unprocessable(
            "No such case of the host facility.",
            errors=[
                {"pointer": "/case_id", "detail": "not a case of the host facility you can see"}
            ],
        )
    await _check_presenter(session, series, data["presenter_id"])
    on_this_occurrence = (
        col(RoundAgendaItem.series_id) == series.id,
        col(RoundAgendaItem.occurrence_start) == original,
    )
    if await session.scalar(
        select(col(RoundAgendaItem.id)).where(
            *on_this_occurrence, col(RoundAgendaItem.case_id) == case.id
        )
    ):
        raise Conflict("The case is already on this occurrence's agenda.", code="already-on-agenda")
    position = data.get("position")
    if position is None:
        top = await session.scalar(
            select(func.max(col(RoundAgendaItem.position))).where(*on_this_occurrence)
        )
        position = 0 if top is None else top + 1
    item = RoundAgendaItem(
        series_id=series.id,
        occurrence_start=original,
        case_id=case.id,
        presenter_id=data["presenter_id"],
        position=position,
        added_by_id=p.id,
    )
    session.add(item)
    await flush_unique(session, "The agenda")
    await audit.append(
        session,
        p,
        "round_agenda.add",
        "case",
        case.id,
        detail=f"round {series.id} at {original.isoformat()}",
    )
    return item


async def _check_presenter(session: AsyncSession, series: RoundSeries, user_id: str) -> None:
    user = await session.get(User, user_id)
    ok = (
        user is not None
        and user.active
        and (
            (user.role == Role.clinician and user.organization_id == series.host_organization_id)
            or await takes_part(session, series, user_id, lock=True)
        )
    )
    if not ok:
        raise Unprocessable(
            "The presenter must be a host clinician or a participant.",
            errors=[{"pointer": "/presenter_id", "detail": "not a host clinician or participant"}],
        )


async def agenda(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str
) -> list[RoundAgendaItem]:
    original, _ = await resolve_occurrence(session, series, start)
    items = list(
        (
            await session.scalars(
                select(RoundAgendaItem)
                .where(
                    col(RoundAgendaItem.series_id) == series.id,
                    col(RoundAgendaItem.occurrence_start) == original,
                )
                .order_by(col(RoundAgendaItem.position), col(RoundAgendaItem.id))
            )
        ).all()
    )
    await audit.append(
        session,
        p,
        "round_agenda.read",
        "round",
        series.id,
        detail=f"at {original.isoformat()}: {len(items)} item(s)",
    )
    return items


async def update_agenda_item(
    session: AsyncSession,
    p: Principal,
    series: RoundSeries,
    start: str,
    item_id: str,
    data: dict[str, Any],
    if_match: str | None = None,
) -> RoundAgendaItem:
    original, _ = await resolve_occurrence(session, series, start)
    # Held to the commit: of two recommendations written from the same version, the second
    # is told it is stale (412) instead of replacing the first unseen.
    item = await session.scalar(
        select(RoundAgendaItem)
        .where(
            col(RoundAgendaItem.id) == item_id,
            col(RoundAgendaItem.series_id) == series.id,
            col(RoundAgendaItem.occurrence_start) == original,
        )
        .with_for_update()
    )
    if item is None:
        raise AgendaItemNotFound("No such agenda item.")
    check_if_match(if_match, etag(item.version), what="agenda item")
    if "recommendation" in data and not may_advise(p, series):
        raise Forbidden("Only the round's specialists and its host record recommendations.")
    if ({"presenter_id", "position"} & data.keys()) and not can_edit(p, series):
        raise Forbidden("Only the host facility and programme staff arrange the agenda.")
    if data.get("presenter_id"):
        await _check_presenter(session, series, data["presenter_id"])
        item.presenter_id = data["presenter_id"]
    if data.get("position") is not None:
        item.position = data["position"]
    if data.get("recommendation"):
        item.recommendation = data["recommendation"]
        item.recommended_at, item.recommended_by_id = utcnow(), p.id
    item.version += 1
    item.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        p,
        "round_agenda.update",
        "case",
        item.case_id,
        detail=f"round {series.id} item {item.id}: {sorted(data)}",
    )
    return item


async def remove_agenda_item(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, item_id: str
) -> None:
    """Take a case off an occurrence's agenda (put there by mistake); a cancelled
    occurrence's too. Not once the round's recommendation on it is recorded: that is part of
    the case's record (record.py), so the item stays (409)."""
    original, _ = await resolve_occurrence(session, series, start)
    # Held to the commit, as a recommendation's write holds it: of a recommendation and a
    # removal at the same moment, the removal waits and then sees the recommendation.
    item = await session.scalar(
        select(RoundAgendaItem)
        .where(
            col(RoundAgendaItem.id) == item_id,
            col(RoundAgendaItem.series_id) == series.id,
            col(RoundAgendaItem.occurrence_start) == original,
        )
        .with_for_update()
    )
    if item is None:
        raise AgendaItemNotFound("No such agenda item.")
    if item.recommendation:
        raise AgendaItemRecommended(
            "The round's recommendation on this case is recorded and is part of the case's "
            "record, so the case stays on this occurrence's agenda."
        )
    await session.delete(item)
    await session.flush()
    await audit.append(
        session,
        p,
        "round_agenda.remove",
        "case",
        item.case_id,
        detail=f"round {series.id} at {original.isoformat()}: item {item.id}",
    )
    await announce(
        session,
        series,
        "agenda_item_removed",
        occurrence_start=original,
        item_id=item.id,
        by_id=p.id,
    )


async def suggested_agenda(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, limit: int
) -> list[dict[str, Any]]:
    """The host's open cases in the series' specialty: unmatched first, then longest waiting."""
    original = await live_occurrence(session, series, start)
    on_agenda = exists().where(
        col(RoundAgendaItem.case_id) == col(Case.id),
        col(RoundAgendaItem.series_id) == series.id,
        col(RoundAgendaItem.occurrence_start) == original,
    )
    unmatched_first = col(Case.status) != CaseStatus.unmatched.value
    rows = (
        await session.scalars(
            select(Case)
            .where(
                col(Case.organization_id) == series.host_organization_id,
                col(Case.specialty) == series.specialty,
                col(Case.status).in_([s.value for s in OPEN_STATUSES]),
                full_access(p),
                ~on_agenda,
            )
            .order_by(unmatched_first, col(Case.created_at), col(Case.id))
            .limit(limit)
        )
    ).all()
    now = utcnow()
    out = [
        {
            "case_id": c.id,
            "specialty": c.specialty,
            "urgency": c.urgency,
            "status": c.status,
            "question": c.question,
            "submitted_at": c.created_at,
            "waiting_minutes": int((now - c.created_at).total_seconds() // 60),
        }
        for c in rows
    ]
    await audit.append(
        session,
        p,
        "round_agenda.suggest",
        "round",
        series.id,
        detail=f"{len(out)} case(s): " + ",".join(c.id for c in rows),
    )
    return out
