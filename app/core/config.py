"""One place for every setting, read from the environment and an optional .env file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./consult.db"
    redis_url: str | None = None
    secret_key: str = DEFAULT_SECRET
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = None
    demo_data: bool = False

    # Tokens: short access tokens, rotating refresh tokens.
    jwt_issuer: str = "consult-backend"
    jwt_audience: str = "consult-api"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # argon2id cost; tests lower it so the suite stays fast on two cores.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536

    # Login throttling, per account and per client address.
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 300

    max_body_bytes: int = 1_000_000
    cors_origins: list[str] = Field(default_factory=list)
    ws_allowed_origins: list[str] = Field(default_factory=list)

    data_dir: Path = Path("./data")
    max_attachment_bytes: int = 20 * 1024 * 1024

    # Deadlines by urgency, in minutes.
    respond_by_minutes: dict[str, int] = Field(
        default_factory=lambda: {"emergency": 60, "urgent": 24 * 60, "routine": 72 * 60}
    )
    offer_expiry_minutes: dict[str, int] = Field(
        default_factory=lambda: {"emergency": 10, "urgent": 120, "routine": 720}
    )

    webhook_allow_private: bool = False
    # Run the background worker inside the app process (embedded mode).
    run_worker: bool = True
    worker_interval_seconds: float = 1.0
    idempotency_ttl_hours: int = 24
    # How long before a round occurrence its participants are reminded.
    round_reminder_minutes: int = 60

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set outside development")
        if len(self.secret_key) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
