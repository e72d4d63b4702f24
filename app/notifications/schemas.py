"""Request and response shapes: notifications, preferences, devices, invitations, resets."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from app.auth.schemas import Email, NewPassword
from app.core.principal import Role
from app.core.schemas import ReadModel, RequestBody, ShortText, Stamped, TimeZoneName, example
from app.notifications.kinds import Channel, Kind
from app.partners.schemas import WEBHOOK_URL_PATTERN


class NotificationRead(ReadModel):
    id: str
    kind: str
    created_at: datetime
    read_at: datetime | None
    subject: str
    link: str = Field(description="Opens in the console; needs a sign-in.")


def _hhmm(v: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        raise ValueError("expected HH:MM (00:00-23:59)")
    return v


_HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
HHMM = Annotated[
    str, AfterValidator(_hhmm), WithJsonSchema({"type": "string", "pattern": _HHMM_PATTERN})
]
# A push service's address: the same rule as a webhook's (http only where private
# addresses are allowed, for development: app.partners.urls.check_url).
PUSH_ENDPOINT_PATTERN = WEBHOOK_URL_PATTERN


class QuietHours(BaseModel):
    start: HHMM = Field(description="Local wall time in your zone, HH:MM.")
    end: HHMM


class PreferencesUpdate(RequestBody):
    """The whole set: a kind not named goes back to its defaults. `in_app` is always on."""

    model_config = example(
        {
            "channels": {"offer": ["push", "sms"], "digest": ["email"]},
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "timezone": "America/Argentina/Salta",
            "language": "es",
        }
    )

    channels: dict[Kind, list[Channel]] = Field(
        default_factory=dict,
        description="Kinds your role is never sent are ignored (not kept).",
    )
    quiet_hours: QuietHours | None = None
    timezone: TimeZoneName | None = Field(
        default=None,
        description="Default: your specialist profile's, else your facility's. While you have"
        " none of your own, sending back that default (as read) does not make it yours: it"
        " keeps following them.",
    )
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None,
        description="Default: the first of your specialist profile's, else your facility's"
        " languages that messages are written in, else en; sent back as read, as the zone.",
    )


Source = Literal["own", "specialist_profile", "facility", "default"]


class PreferencesRead(BaseModel):
    channels: dict[str, list[str]] = Field(
        description="Per kind your role can be sent, the channels (kinds it is never sent are"
        " not listed, and not kept when sent)."
    )
    quiet_hours: QuietHours | None
    timezone: str
    timezone_source: Source = Field(
        description="Where `timezone` comes from: your own choice, your specialist profile,"
        " your facility, or `default` (nothing known of you: UTC)."
    )
    language: str
    language_source: Source = Field(
        description="Where `language` comes from, as `timezone_source` (`default`: en)."
    )
    phone: str | None
    phone_verified: bool


# base64url, unpadded or correctly padded (a browser sends it unpadded).
_B64URL = r"^([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2}(==)?|[A-Za-z0-9_-]{3}=?)?$"


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=1, max_length=200, pattern=_B64URL)
    auth: str = Field(min_length=1, max_length=100, pattern=_B64URL)


class PushSubscriptionCreate(RequestBody):
    """A browser's PushSubscription JSON (`subscription.toJSON()`)."""

    model_config = example(
        {
            "endpoint": "https://push.example.net/send/abc123",
            "keys": {
                "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u"
                "-Ts1XbjhazAkj7I99e8QcYP7DkM",
                "auth": "tBHItJI5svbpez7KI4CCXg",
            },
        }
    )

    endpoint: str = Field(min_length=1, max_length=2000, pattern=PUSH_ENDPOINT_PATTERN)
    keys: PushKeys
    expirationTime: Any | None = None  # noqa: N815  (the browser's own field name)


class PushSubscriptionRead(Stamped):
    endpoint: str


class PhoneSet(RequestBody):
    model_config = example({"phone": "+254712345678"})

    phone: str = Field(min_length=4, max_length=20, description="E.164, e.g. +254712345678")


class PhoneVerify(RequestBody):
    model_config = example({"code": "482913"})

    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class InvitationCreate(RequestBody):
    model_config = example({"email": "dr.okello@mission-hospital.org", "role": "specialist"})

    email: Email
    role: Role
    organization_id: str | None = Field(default=None, min_length=1, max_length=40)


class InvitationRead(ReadModel):
    id: str
    email: str
    role: str
    organization_id: str | None
    created_by_id: str | None = Field(description="Who sent it")
    created_at: datetime
    expires_at: datetime


class InvitationAccept(RequestBody):
    model_config = example({"name": "Dr Grace Okello", "password": "a-long-passphrase"})

    name: ShortText
    password: NewPassword


class PasswordResetRequest(RequestBody):
    model_config = example({"email": "ana.quispe@sanroque.org"})

    email: str = Field(min_length=3, max_length=254)


class PasswordReset(RequestBody):
    model_config = example({"password": "a-new-long-passphrase"})

    password: NewPassword


class NotificationDeliveryRead(Stamped):
    notification_id: str | None
    user_id: str | None
    channel: str
    template: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="When it is tried next, while `pending` or `sending`; null once sent, "
        "failed or skipped, when nothing more is tried."
    )
    sent_at: datetime | None
    last_error: str | None
    message_id: str

    @field_validator("next_attempt_at")
    @classmethod
    def _next_only_while_tried(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        # The row keeps its last schedule; read as a plan, it would say one more is coming.
        return v if info.data.get("status") in ("pending", "sending") else None
