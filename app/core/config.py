"""One place for every setting, read from the environment and an optional .env file."""

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

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

    # Login throttling (app/auth/service.py): failed sign-ins per window, for one account
    # from one address; for one account from every address where it has not signed in
    # before; and from one address over every account it has not signed in to before.
    # A successful sign-in is not counted, and remembers its address for that account.
    login_attempts_per_account: int = 5
    login_attempts_per_account_total: int = 50
    login_attempts_per_address: int = 20
    login_window_seconds: int = 300
    login_known_address_days: int = 30

    # The general request limit (app/core/ratelimit.py): requests per window for each
    # principal, or each client address without a valid token; 0 turns it off. Every
    # answer carries the IETF draft's RateLimit and RateLimit-Policy fields.
    rate_limit_requests: int = Field(default=1200, ge=0)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86400)

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

    # Live sockets (app/realtime).
    # The auth frame must arrive this soon after the socket opens.
    ws_auth_timeout_seconds: float = 5.0
    # Sockets admitted (token, visibility, audit) at once; the rest wait their turn.
    ws_admission_concurrency: int = 16
    # Larger client frames close the socket (4413); uvicorn's --ws-max-size is the hard cap.
    ws_max_frame_bytes: int = 64 * 1024
    # Frames waiting for a socket; a client that lets more pile up is closed (4429).
    ws_send_queue: int = 512
    # A socket silent this long gets a ping frame; no answer within the timeout closes it.
    ws_ping_interval_seconds: float = 30.0
    ws_ping_timeout_seconds: float = 20.0
    # Live messages wait this long after `ready` for a `resume` frame (none: live from now).
    ws_resume_wait_seconds: float = 0.5
    # How often every socket's token and access are checked again (besides case events).
    ws_recheck_seconds: float = 60.0
    # The outbox relay's fallback poll, and how old an event must be before any process
    # (not only the one that committed it) may publish it.
    ws_relay_poll_seconds: float = 1.0
    ws_relay_grace_seconds: float = 2.0
    # Allocations between young-generation collections (CPython's default is 700).
    ws_gc_gen0_threshold: int = 20_000
    # The Redis channel every process of one deployment shares.
    ws_channel: str = "consult:live"

    # The audit chain's key (app/audit): kept out of the database, so whoever can write to
    # it cannot re-seal an edited entry. Unset: derived from SECRET_KEY.
    audit_key: str | None = None
    # How often the chain's head is exported as a signed checkpoint (log, webhook event).
    audit_checkpoint_minutes: int = Field(default=60, ge=1, le=60)

    webhook_allow_private: bool = False
    # /readyz answers 503 when the database does not answer within this (a cut link stalls).
    ready_timeout_seconds: float = 2.0

    # Calls (app/calls): the ICE servers browsers get from GET /rtc/ice-servers, as JSON:
    # URLs or RTCIceServer objects (`[{"urls": ["turn:turn.example.org:3478"]}]`). TURN
    # entries are handed short-lived credentials derived from TURN_SECRET (the TURN REST
    # API convention that coturn's `use-auth-secret` checks); without it they go as written.
    ice_servers: list[str | dict[str, Any]] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    # The console's session cookies are Secure (browsers keep them on https and on
    # localhost); only a plain-http development LAN turns this off.
    console_secure_cookies: bool = True
    # Run the background worker inside the app process (embedded mode).
    run_worker: bool = True
    worker_interval_seconds: float = 1.0
    idempotency_ttl_hours: int = 24
    # How long before a round occurrence its participants are reminded.
    round_reminder_minutes: int = 60

    # Logs: JSON lines (one object per line, for a log pipeline) or plain text.
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    # FastAPI's own OpenTelemetry (spans, metrics, logs to the globally configured
    # providers). Off: the service reports through /metrics (Prometheus) and its logs, and
    # FastAPI's look-up of the providers cost every request ~25 µs in-process (~5% of
    # GET /me). On for a deployment that installs and configures OpenTelemetry.
    opentelemetry: bool = False
    # Notifications (app/notifications): where people are reached when not connected.
    # The address people open; every link in an email, SMS or push starts with it.
    public_url: str = "http://localhost:8000"
    # smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=required insists),
    # smtps://user:pass@host:465 (TLS). Unset: each email is written as a .eml file under
    # data_dir/mail and logged, so a newcomer sees what would have been sent.
    smtp_url: str | None = None
    # SMTP connections a sender pass uses at once (and keeps open between passes).
    smtp_connections: int = Field(default=4, ge=1, le=32)
    mail_from: str = "Consult <no-reply@consult.localhost>"
    vapid_private_key: str | None = None  # Web Push; unset: no pushes are sent
    vapid_subject: str = "mailto:admin@consult.localhost"
    # A provider-neutral SMS/WhatsApp gateway that receives Standard-Webhooks-signed JSON.
    sms_gateway_url: str | None = None
    sms_gateway_secret: str | None = None
    # How often the app's own sender looks for due deliveries (besides being woken by a
    # commit), and how long a claimed delivery is held before another pass may retry it.
    notify_poll_seconds: float = 0.5
    notify_lease_seconds: int = 120
    notify_max_attempts: int = 8
    # Messages to an offline participant are gathered into one email per case per window.
    message_gather_minutes: int = 15
    # A follow-up still open this long after it fell due is overdue: its assignee is told
    # again (`followup.overdue`), once.
    followup_overdue_hours: int = 24
    # The daily digest goes out at this local time in each user's zone.
    digest_local_time: str = "07:00"
    invitation_valid_days: int = 7
    password_reset_valid_minutes: int = 60

    # The programme's clock (app/core/clock.py): where it starts and how many times faster
    # than real time it runs. Only for the simulated programme and tests; refused in
    # production, where "now" is the real now.
    clock_start: datetime | None = None
    clock_speed: float = Field(default=1.0, gt=0)
    # The real moment (Unix seconds) at which the clock reads CLOCK_START; unset: when the
    # process starts. Several processes given the same anchor share one programme time.
    clock_anchor: float | None = None
    # A file holding the programme's now (RFC 3339), rewritten by a simulation that steps
    # time for every process at once; while it exists, it is the clock.
    clock_file: Path | None = None

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set outside development")
        if len(self.secret_key) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters")
        if self.environment == "production" and (
            self.clock_start
            or self.clock_speed != 1.0
            or self.clock_anchor is not None
            or self.clock_file is not None
        ):
            raise ValueError("CLOCK_START and CLOCK_SPEED are for simulations and tests only")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
