"""Users, API clients and the refresh-token families that keep them signed in."""

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import Timestamped, json_field, new_id, ts_field
from app.core.principal import Scope

SCOPES = tuple(s.value for s in Scope)


class User(Timestamped, table=True):
    __tablename__ = "user"

    id: str = Field(default_factory=lambda: new_id("usr"), primary_key=True, max_length=40)
    email: str = Field(unique=True, max_length=254)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20, index=True)
    organization_id: str | None = Field(
        default=None, foreign_key="organization.id", index=True, max_length=40
    )
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    # Bumped on deactivation or password change: every token carrying an older value dies.
    token_version: int = 0
    calendar_token_hash: str | None = Field(default=None, max_length=64, index=True)
    # The languages she speaks (BCP 47 tags, as app.core.schemas.LanguageTag writes them):
    # what an interpreter interprets. Accounts from before have none on file.
    languages: list[str] = json_field(sa_column_kwargs={"server_default": text("'[]'")})


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: str = Field(default_factory=lambda: new_id("rt"), primary_key=True, max_length=40)
    family_id: str = Field(index=True, max_length=40)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = ts_field(default_factory=utcnow)
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(default=None)
    revoked_at: datetime | None = ts_field(default=None)


class RevokedAccessToken(SQLModel, table=True):
    __tablename__ = "revoked_access_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = ts_field()


class ApiClient(Timestamped, table=True):
    __tablename__ = "api_client"

    id: str = Field(default_factory=lambda: new_id("cli"), primary_key=True, max_length=40)
    client_id: str = Field(unique=True, max_length=64)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=200)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=40)
    scopes: list[str] = json_field()
    active: bool = True
    # In every token the client is issued (`tv`); bumped when its secret is replaced or it
    # is switched off, so every token minted before dies at once (app.core.deps). Tokens
    # from before the claim existed carry none and count as 0.
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
