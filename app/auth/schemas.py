from typing import Literal

from pydantic import EmailStr, Field

from app.core.principal import Role
from app.core.schemas import ReadModel, RequestBody, ShortText, Stamped


class TokenResponse(ReadModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class UserCreate(RequestBody):
    email: EmailStr
    name: ShortText
    role: Role
    organization_id: str | None = Field(default=None, min_length=1, max_length=40)
    password: str = Field(min_length=10, max_length=200)
    active: bool = True


class UserUpdate(RequestBody):
    name: ShortText | None = None
    organization_id: str | None = Field(default=None, min_length=1, max_length=40)
    password: str | None = Field(default=None, min_length=10, max_length=200)
    active: bool | None = None
    role: Role | None = None


class UserRead(Stamped):
    email: str
    name: str
    role: Role
    organization_id: str | None
    active: bool


class ApiClientCreate(RequestBody):
    name: ShortText
    organization_id: str = Field(min_length=1, max_length=40)
    scopes: list[str] = Field(min_length=1, max_length=5)


class ApiClientRead(Stamped):
    client_id: str
    name: str
    organization_id: str
    scopes: list[str]
    active: bool


class ApiClientCreated(ApiClientRead):
    client_secret: str = Field(description="Shown once; only a hash is stored.")


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
