from pydantic import Field

from app.core.emails import SafeEmail
from app.core.principal import Role
from app.core.schemas import ReadModel, RequestBody, SecretField, ShortText, Stamped


class TokenResponse(ReadModel):
    access_token: str = SecretField("The bearer token for the API.")
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = SecretField("Exchange it for new tokens; used once.", default=None)
    scope: str | None = None


class UserCreate(RequestBody):
    email: SafeEmail
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
    client_secret: str = SecretField("Shown once; only a hash is stored.")
