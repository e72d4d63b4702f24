"""Who wants what, where, and when: channels per kind, quiet hours in the user's own zone,
their language; and whether a specialist is on time off (then nothing is sent)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.errors import NotFound
from app.core.principal import Role
from app.notifications.kinds import DEFAULT_CHANNELS, Channel, Kind
from app.notifications.models import NotificationSetting
from app.organizations.models import Organization
from app.specialists.models import SpecialistProfile, SpecialistTimeOff

LANGUAGES = ("en", "es", "fr")  # the languages the messages are written in

# Who can receive each kind (docs/notifications.md, "What is sent, to whom"): a person's
# preferences list, and keep, only her role's kinds. Offers go to specialists; unmatched and
# overdue cases to coordinators; a signed note to the referring clinician; being added to a
# case to the interpreters and second specialists a case's people add; a round's news
# (`round_*`: reminders, changes, being added) to its participants (specialists,
# interpreters, the host's clinicians); gathered messages to a case's people; a follow-up
# to whoever owns it (anyone who sees the case in full); the digest to everyone.
_ROUNDS = {k for k in Kind if k.value.startswith("round_")}
_EVERYONE = {Kind.followup_assigned, Kind.followup_due, Kind.followup_overdue, Kind.digest}
_CASE_PEOPLE = _EVERYONE | _ROUNDS | {Kind.messages}
KINDS_FOR: dict[Role, frozenset[Kind]] = {
    Role.clinician: frozenset(_CASE_PEOPLE | {Kind.note_signed}),
    Role.specialist: frozenset(_CASE_PEOPLE | {Kind.offer, Kind.offer_expiring, Kind.case_added}),
    Role.interpreter: frozenset(_CASE_PEOPLE | {Kind.case_added}),
    Role.coordinator: frozenset(_EVERYONE | {Kind.case_unmatched, Kind.case_overdue}),
    Role.admin: frozenset(_EVERYONE),
}
_NAMED = frozenset().union(*KINDS_FOR.values())


def kinds_for(role: str) -> list[Kind]:
    """The kinds someone of `role` can be sent, in their usual order. A kind not yet named
    in `KINDS_FOR` is everyone's (a test asks that each be named), and a role this service
    does not know gets every kind, rather than none."""
    try:
        mine = KINDS_FOR[Role(role)]
    except (ValueError, KeyError):
        return list(Kind)
    return [k for k in Kind if k in mine or k not in _NAMED]


# Where a zone or language comes from: the user's own choice, her specialist profile, her
# facility, or nothing known of her (UTC, English).
OWN, PROFILE, FACILITY, DEFAULT = "own", "specialist_profile", "facility", "default"


@dataclass
class Recipient:
    """A user as the notifier needs them: where to reach them and what they asked for."""

    user: User
    setting: NotificationSetting | None
    timezone: str
    language: str
    time_off: bool = False  # a specialist on time off at the time asked is sent nothing
    timezone_source: str = DEFAULT
    language_source: str = DEFAULT

    def channels(self, kind: Kind) -> frozenset[Channel]:
        chosen = (self.setting.channels if self.setting else {}).get(kind.value)
        picked = DEFAULT_CHANNELS[kind] if chosen is None else frozenset(map(Channel, chosen))
        return picked | {Channel.in_app}  # in-app is always on

    @property
    def phone(self) -> str | None:
        s = self.setting
        return s.phone if s and s.phone and s.phone_verified_at else None

    def quiet_until(self, at: datetime) -> datetime | None:
        """When quiet hours that hold at `at` end (UTC), or None when `at` is not quiet."""
        s = self.setting
        if not s or not s.quiet_start or not s.quiet_end:
            return None
        return quiet_until(at, s.quiet_start, s.quiet_end, self.timezone)


def _hhmm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_until(at: datetime, start: str, end: str, zone: str) -> datetime | None:
    """The end of the quiet window containing `at`, in UTC; None outside it. The window is
    wall time in `zone` (22:00-07:00 spans midnight), so its length in real hours changes
    on the nights the clocks change."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    s, e = _hhmm(start), _hhmm(end)
    now = local.time().replace(tzinfo=None)
    if s == e:
        return None
    if s < e:
        inside = s <= now < e
        end_day = local.date()
    else:  # spans midnight
        inside = now >= s or now < e
        end_day = local.date() + timedelta(days=1) if now >= s else local.date()
    if not inside:
        return None
    # Wall time on that day; a time the clocks skip (spring forward) lands just after.
    ends = datetime.combine(end_day, e, tzinfo=tz)
    return ends.astimezone(ZoneInfo("UTC"))


def next_local(at: datetime, hhmm: str, zone: str) -> datetime:
    """The next instant after `at` when the wall clock in `zone` reads `hhmm` (UTC)."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    candidate = datetime.combine(local.date(), _hhmm(hhmm), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), _hhmm(hhmm), tzinfo=tz)
    return candidate.astimezone(ZoneInfo("UTC"))


async def setting_of(session: AsyncSession, user_id: str) -> NotificationSetting | None:
    return await session.get(NotificationSetting, user_id)


# Built once: the user, their setting, the zones and languages to fall back on, time off.
_RECIPIENT = (
    select(
        User,
        NotificationSetting,
        col(SpecialistProfile.timezone),
        col(SpecialistProfile.languages),
        col(Organization.timezone),
        col(Organization.languages),
        exists().where(
            col(SpecialistTimeOff.user_id) == col(User.id),
            col(SpecialistTimeOff.start_at) <= bindparam("r_at"),
            col(SpecialistTimeOff.end_at) > bindparam("r_at"),
        ),
    )
    .outerjoin(NotificationSetting, col(NotificationSetting.user_id) == col(User.id))
    .outerjoin(SpecialistProfile, col(SpecialistProfile.user_id) == col(User.id))
    .outerjoin(Organization, col(Organization.id) == col(User.organization_id))
    .where(col(User.id) == bindparam("r_user"))
)


def _zone_and_language(
    own_zone: str | None,
    own_language: str | None,
    p_zone: str | None,
    p_langs: list[str] | None,
    o_zone: str | None,
    o_langs: list[str] | None,
) -> tuple[str, str]:
    """Their own choice, else their specialist profile's, else their facility's, else UTC
    and English."""
    languages = ([own_language] if own_language else []) + list(p_langs or []) + list(o_langs or [])
    language = next(
        (lang for lang in (x.split("-")[0] for x in languages) if lang in LANGUAGES), "en"
    )
    return own_zone or p_zone or o_zone or "UTC", language


def _sources(
    own_zone: str | None,
    own_language: str | None,
    p_zone: str | None,
    p_langs: list[str] | None,
    o_zone: str | None,
    o_langs: list[str] | None,
) -> tuple[str, str]:
    """Where `_zone_and_language` found the zone and the language (OWN, PROFILE, FACILITY,
    DEFAULT), in the same order of precedence."""
    zone = OWN if own_zone else PROFILE if p_zone else FACILITY if o_zone else DEFAULT

    def writes(langs: list[str] | None) -> bool:
        return any(x.split("-")[0] in LANGUAGES for x in langs or [])

    language = (
        OWN
        if own_language and own_language.split("-")[0] in LANGUAGES
        else PROFILE
        if writes(p_langs)
        else FACILITY
        if writes(o_langs)
        else DEFAULT
    )
    return zone, language


def facility_zone_and_language(zone: str | None, languages: list[str] | None) -> tuple[str, str]:
    """What someone of a facility gets before she has a say (an invitee): its zone and
    first language the texts are written in, else UTC and English."""
    return _zone_and_language(None, None, None, None, zone, languages)


async def recipient(
    session: AsyncSession, user_id: str, at: datetime | None = None
) -> Recipient | None:
    """The user with their zone and language (`_zone_and_language`) and whether they are on
    time off at `at` (default now). One statement. None for an inactive user."""
    row = (await session.execute(_RECIPIENT, {"r_user": user_id, "r_at": at or utcnow()})).first()
    if row is None:
        return None
    user, setting, p_zone, p_langs, o_zone, o_langs, off = row
    if not user.active:
        return None
    found = (
        setting.timezone if setting else None,
        setting.language if setting else None,
        p_zone,
        p_langs,
        o_zone,
        o_langs,
    )
    zone, language = _zone_and_language(*found)
    zone_from, language_from = _sources(*found)
    return Recipient(user, setting, zone, language, bool(off), zone_from, language_from)


async def _derived(session: AsyncSession, user_id: str) -> tuple[str, str, str]:
    """The zone and language the user gets when they choose none of their own, and their
    role."""
    row = (await session.execute(_RECIPIENT, {"r_user": user_id, "r_at": utcnow()})).first()
    if row is None or not row[0].active:
        raise NotFound("No such user.")
    user, _, p_zone, p_langs, o_zone, o_langs, _ = row
    return (*_zone_and_language(None, None, p_zone, p_langs, o_zone, o_langs), user.role)


def _own(sent: str | None, stored: str | None, derived: str) -> str | None:
    """What to keep as the user's own zone or language. A value they had is kept when sent
    again; the derived one, shown to someone without their own and sent back unchanged (a
    client echoing what it read), is not made theirs: it keeps following their profile or
    facility. None goes back to following them."""
    if sent is not None and stored is None and sent == derived:
        return None
    return sent


async def on_time_off(session: AsyncSession, user_id: str, at: datetime) -> bool:
    """A specialist on time off is sent nothing (the in-app list still keeps it)."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    col(SpecialistTimeOff.user_id) == user_id,
                    col(SpecialistTimeOff.start_at) <= at,
                    col(SpecialistTimeOff.end_at) > at,
                )
            )
        )
    )


def as_read(r: Recipient) -> dict[str, Any]:
    s = r.setting
    return {
        "channels": {
            k.value: sorted(c.value for c in r.channels(k)) for k in kinds_for(r.user.role)
        },
        "quiet_hours": (
            {"start": s.quiet_start, "end": s.quiet_end}
            if s and s.quiet_start and s.quiet_end
            else None
        ),
        "timezone": r.timezone,
        "timezone_source": r.timezone_source,
        "language": r.language,
        "language_source": r.language_source,
        "phone": s.phone if s else None,
        "phone_verified": bool(s and s.phone_verified_at),
    }


async def setting_for_update(session: AsyncSession, user_id: str) -> NotificationSetting:
    s = await session.get(NotificationSetting, user_id)
    if s is None:
        s = NotificationSetting(user_id=user_id)
        session.add(s)
    return s


async def read(session: AsyncSession, user_id: str) -> dict[str, Any]:
    r = await recipient(session, user_id)
    if r is None:
        raise NotFound("No such user.")
    return as_read(r)


async def replace(
    session: AsyncSession,
    user_id: str,
    channels: dict[Kind, list[Channel]],
    quiet_hours: tuple[str, str] | None,
    timezone: str | None,
    language: str | None,
) -> dict[str, Any]:
    """PUT: the whole set at once; kinds not named go back to their defaults, and kinds the
    user's role is never sent (`KINDS_FOR`) are not kept. A zone or language that only
    repeats the derived one is not stored as the user's own (`_own`)."""
    zone0, language0, role = await _derived(session, user_id)
    mine = set(kinds_for(role))
    s = await setting_for_update(session, user_id)
    s.channels = {
        k.value: sorted({c.value for c in v} | {Channel.in_app.value})
        for k, v in channels.items()
        if k in mine
    }
    s.quiet_start, s.quiet_end = quiet_hours or (None, None)
    s.timezone = _own(timezone, s.timezone, zone0)
    s.language = _own(language, s.language, language0)
    s.updated_at = utcnow()
    await session.flush()
    r = await recipient(session, user_id)
    if r is None:
        raise NotFound("No such user.")
    # The digest follows the user's (new) zone: next at their next morning.
    s.digest_next_at = next_local(utcnow(), get_settings().digest_local_time, r.timezone)
    await session.flush()
    return as_read(r)
