from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from app.core.emails import SafeEmail
from app.core.principal import Role, Scope
from app.core.schemas import (
    Changes,
    LanguageTag,
    ReadModel,
    RequestBody,
    SecretField,
    ShortText,
    Stamped,
    example,
)


class TokenResponse(ReadModel):
    access_token: str = SecretField("The bearer token for the API.")
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = SecretField("Exchange it for new tokens; used once.", default=None)
    scope: str | None = None


# The addresses email-validator accepts, as a pattern (no special-use domains such as
# .test or .invalid: mail to them goes nowhere).
EMAIL_PATTERN = (
    r"^[A-Za-z0-9%+_-]+(\.[A-Za-z0-9%+_-]+)*@"
    r"(?![^@]*\.(arpa|invalid|local|localhost|onion|test|example|internal|alt)$)"
    r"([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
# Refused as well: look-alikes of another address (app.core.emails), which the pattern
# (ASCII only) cannot state.
Email = Annotated[SafeEmail, Field(json_schema_extra={"pattern": EMAIL_PATTERN})]


# Runs of keys a person types without choosing (NIST SP 800-63B: refuse "aaaaaaaaaa",
# "1234567890"); a password inside one of them, either way, is refused.
_RUNS = tuple(
    run * 3
    for run in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")
    for run in (run, run[::-1])
)


def _not_too_simple(value: str) -> str:
    low = value.lower()
    if len(set(low)) < 4 or any(low in run for run in _RUNS):
        raise PydanticCustomError(
            "password_too_simple", "too simple: repeated or sequential characters"
        )
    return value


# Every password a person sets (created for her, changed, from an invitation or a reset).
NewPassword = Annotated[str, Field(min_length=10, max_length=200), AfterValidator(_not_too_simple)]


def _once_each(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


# The languages a person speaks, as a facility's or a specialist profile's are written
# (app.core.schemas.LanguageTag: "QU" is kept as "qu"), each once, in her order.
Languages = Annotated[
    list[LanguageTag],
    Field(
        max_length=20,
        description="The languages the person speaks (BCP 47 tags): for an interpreter, "
        "those she interprets.",
    ),
    AfterValidator(_once_each),
]


class UserCreate(RequestBody):
    # A clinician belongs to a facility: stated for clients, checked by the service.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"role": {"const": "clinician"}}, "required": ["role"]},
            "then": {
                "required": ["organization_id"],
                "properties": {"organization_id": {"type": "string"}},
            },
            "examples": [
                {
                    "email": "ana.quispe@sanroque.example.org",
                    "name": "Ana Quispe",
                    "role": "clinician",
                    "organization_id": "org_01",
                    "password": "a-long-passphrase",
                    "languages": ["es", "qu"],
                }
            ],
        }
    )

    email: Email
    name: ShortText
    role: Role
    organization_id: str | None = Field(default=None, min_length=1, max_length=40)
    password: NewPassword
    # true or false, never "no" read as false: these switch a person (or an app) off.
    active: StrictBool = True
    languages: Languages = Field(default_factory=list)


class UserUpdate(Changes):
    model_config = example({"name": "Ana Quispe Mamani", "active": True})
    # null: no facility (a specialist or coordinator who left one; a clinician needs one).
    nullable = frozenset({"organization_id"})

    name: ShortText | None = None
    organization_id: str | None = Field(default=None, min_length=1, max_length=40)
    # No password: only the user sets theirs (POST /me/password, invitation or reset link).
    active: StrictBool | None = None
    role: Role | None = None
    # She may set her own (as her name); a coordinator or an admin anyone's they may change.
    languages: Languages | None = None


class UserRead(Stamped):
    email: str
    name: str
    role: Role
    organization_id: str | None
    active: bool
    languages: list[str] = Field(
        description="The languages the person speaks (BCP 47 tags); empty when none is on file."
    )


class ApiClientCreate(RequestBody):
    model_config = example(
        {
            "name": "San Roque EMR",
            "organization_id": "org_01",
            "scopes": ["cases:read", "cases:write", "webhooks:manage"],
        }
    )

    name: ShortText
    organization_id: str = Field(min_length=1, max_length=40)
    scopes: list[Scope] = Field(min_length=1, max_length=5)


class ApiClientRead(Stamped):
    client_id: str
    name: str
    organization_id: str
    scopes: list[str]
    active: bool


class ApiClientUpdate(RequestBody):
    model_config = example({"active": False})

    active: StrictBool = Field(
        description="false: the client is switched off at once (its tokens are refused, "
        "no new one is issued, its webhooks get nothing); true: on again, taking new "
        "tokens (those it held before stay refused)."
    )


class ApiClientCreated(ApiClientRead):
    client_secret: str = SecretField("Shown once; only a hash is stored.")


class ApiClientMe(ReadModel):
    """What `GET /me` says of an API client: who it is, for which facility, with what."""

    kind: Literal["client"] = "client"
    id: str
    client_id: str
    name: str
    organization_id: str
    scopes: list[str] = Field(description="The scopes this token carries.")
    granted_scopes: list[str] = Field(description="Every scope the client may ask for.")
    active: bool


class Introspection(ReadModel):
    """RFC 7662 §2.2. Only `active` when the token is not live or not the caller's to know."""

    active: bool
    token_type: Literal["access_token", "refresh_token"] | None = None
    sub: str | None = None
    client_id: str | None = None
    scope: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | None = None
    jti: str | None = None
    principal_kind: Literal["user", "client"] | None = None
    role: str | None = None
    organization_id: str | None = None


class PasswordChange(RequestBody):
    model_config = example(
        {"current_password": "the-one-you-use-now", "new_password": "a-longer-passphrase-2"}
    )

    current_password: str = Field(min_length=1, max_length=200)
    new_password: NewPassword
