"""The daily digest, in each user's own morning (DIGEST_LOCAL_TIME in their zone): counts
of what waits for them. Nothing is sent on a day with nothing to say."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.cases.models import Case, CaseStatus, Offer, OfferStatus
from app.core.config import get_settings
from app.core.db import is_postgres
from app.core.principal import Role
from app.core.queries import fixed
from app.followups.models import FollowUp, FollowUpStatus
from app.notifications.content import link
from app.notifications.kinds import Kind
from app.notifications.models import NotificationSetting
from app.notifications.preferences import next_local, recipient
from app.notifications.service import notify, unread_count


async def _count(session: AsyncSession, stmt: object) -> int:
    return int(await session.scalar(stmt) or 0)  # type: ignore[call-overload]


async def counts(session: AsyncSession, user: User, now: datetime) -> dict[str, int]:
    offers = await _count(
        session,
        select(func.count())
        .select_from(Offer)
        .where(
            col(Offer.specialist_id) == user.id, col(Offer.status) == fixed(OfferStatus.pending)
        ),
    )
    follow_ups = await _count(
        session,
        select(func.count())
        .select_from(FollowUp)
        .where(
            col(FollowUp.assignee_id) == user.id,
            col(FollowUp.status) == FollowUpStatus.open.value,
            col(FollowUp.due_at) <= now,
        ),
    )
    unmatched = overdue = 0
    if user.role in (Role.coordinator.value, Role.admin.value):
        unmatched = await _count(
            session,
            select(func.count())
            .select_from(Case)
            .where(col(Case.status) == CaseStatus.unmatched.value),
        )
        overdue = await _count(
            session,
            select(func.count())
            .select_from(Case)
            .where(
                col(Case.overdue).is_(True),
                col(Case.status).in_(
                    [
                        CaseStatus.submitted.value,
                        CaseStatus.offered.value,
                        CaseStatus.assigned.value,
                        CaseStatus.unmatched.value,
                    ]
                ),
            ),
        )
    return {
        "offers": offers,
        "follow_ups": follow_ups,
        "unread": await unread_count(session, user.id),
        "unmatched": unmatched,
        "overdue": overdue,
    }


async def schedule_new(session: AsyncSession, now: datetime, batch: int = 500) -> int:
    """Users without a setting row get one, with their first digest at their next morning."""
    ids = list(
        (
            await session.scalars(
                select(col(User.id))
                .outerjoin(NotificationSetting, col(NotificationSetting.user_id) == col(User.id))
                .where(col(User.active).is_(True), col(NotificationSetting.user_id).is_(None))
                .limit(batch)
            )
        ).all()
    )
    for uid in ids:
        r = await recipient(session, uid)
        zone = r.timezone if r else "UTC"
        session.add(
            NotificationSetting(
                user_id=uid, digest_next_at=next_local(now, get_settings().digest_local_time, zone)
            )
        )
    await session.flush()
    return len(ids)


async def send_due(session: AsyncSession, now: datetime, batch: int = 200) -> int:
    stmt = (
        select(NotificationSetting)
        .where(col(NotificationSetting.digest_next_at) <= now)
        .order_by(col(NotificationSetting.digest_next_at))
        .limit(batch)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    sent = 0
    for s in (await session.scalars(stmt)).all():
        r = await recipient(session, s.user_id)
        if r is None:
            s.digest_next_at = None  # inactive: no digest until a setting changes
            continue
        local_day = now.astimezone(ZoneInfo(r.timezone)).date()
        s.digest_next_at = next_local(now, get_settings().digest_local_time, r.timezone)
        facts = await counts(session, r.user, now)
        if not any(facts.values()):
            continue
        made = await notify(
            session,
            r.user.id,
            Kind.digest,
            data=facts,
            link=link("/"),
            dedupe_key=f"digest:{r.user.id}:{local_day.isoformat()}",
        )
        sent += made is not None
    await session.flush()
    return sent
