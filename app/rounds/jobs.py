"""Round reminders: one `round.reminder` per occurrence, to its participants, before it starts."""

import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.events.service import emit
from app.rounds import recurrence as rec
from app.rounds.models import RoundReminder, RoundSeries
from app.rounds.occurrences import occurrence_view
from app.rounds.participants import participant_ids
from app.rounds.schedule import exceptions_of, rule_of

log = logging.getLogger(__name__)
BATCH = 200


async def send_reminders() -> int:
    """One bounded pass: occurrences starting within the lead time and not yet reminded.

    The reminder row's unique key is claimed in the same transaction as the event, so two
    workers (or a retried pass) never remind the same occurrence twice.
    """
    lead = timedelta(minutes=get_settings().round_reminder_minutes)
    now = utcnow()
    sent = 0
    async with unit_of_work() as session:
        series_list = (
            await session.scalars(
                select(RoundSeries)
                .where(
                    col(RoundSeries.deleted_at).is_(None),
                    col(RoundSeries.starts_at) <= now + lead + timedelta(days=1),
                    or_(col(RoundSeries.ends_at).is_(None), col(RoundSeries.ends_at) > now),
                )
                .order_by(col(RoundSeries.id))
                .limit(5000)
            )
        ).all()
        for series in series_list:
            try:
                due = rec.expand(
                    rule_of(series),
                    timedelta(minutes=series.duration_minutes),
                    now,
                    now + lead,
                    await exceptions_of(session, series.id),
                )
            except rec.RecurrenceError:
                log.warning("round %s has an unreadable schedule", series.id)
                continue
            for occ in due:
                if occ.start <= now or sent >= BATCH:
                    continue
                try:
                    async with session.begin_nested():
                        session.add(
                            RoundReminder(series_id=series.id, occurrence_start=occ.original_start)
                        )
                        await session.flush()
                except IntegrityError:
                    continue  # already reminded
                view = occurrence_view(series, occ)
                await emit(
                    session,
                    "round.reminder",
                    "round",
                    series.id,
                    organization_id=series.host_organization_id,
                    audience=await participant_ids(session, series.id),
                    payload={
                        "round_id": series.id,
                        "title": series.title,
                        "join_url": series.join_url,
                        "start": occ.start.isoformat(),
                        "start_local": view["start_local"],
                        "timezone": series.timezone,
                        "original_start": occ.original_start.isoformat(),
                        # Its own length: a meeting moved and resized is not the series'.
                        "duration_minutes": int((occ.end - occ.start).total_seconds() // 60),
                    },
                )
                sent += 1
    return sent


JOBS = {"rounds.reminders": send_reminders}
