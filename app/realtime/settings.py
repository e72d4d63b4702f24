"""Limits and timings of the live sockets (environment variables prefixed WS_)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class RealtimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="WS_")

    # The auth frame must arrive this soon after the socket opens.
    auth_timeout_seconds: float = 5.0
    # Sockets admitted (token, visibility, audit) at once; the rest wait their turn.
    admission_concurrency: int = 16
    # Larger client frames close the socket (4413); uvicorn's --ws-max-size is the hard cap.
    max_frame_bytes: int = 64 * 1024
    # Frames waiting for a socket; a client that lets more pile up is closed (4429).
    send_queue: int = 512
    # A socket silent this long gets a ping frame; no answer within the timeout closes it.
    ping_interval_seconds: float = 30.0
    ping_timeout_seconds: float = 20.0
    # Live messages wait this long after `ready` for a `resume` frame (none: live from now).
    resume_wait_seconds: float = 0.5
    # How often every socket's token and access are checked again (besides case events).
    recheck_seconds: float = 60.0
    # The outbox relay's fallback poll, and how old an event must be before any process
    # (not only the one that committed it) may publish it.
    relay_poll_seconds: float = 1.0
    relay_grace_seconds: float = 2.0
    # Allocations between young-generation collections (CPython's default is 700).
    gc_gen0_threshold: int = 20_000
    # The Redis channel every process of one deployment shares.
    channel: str = "consult:live"


@lru_cache
def get_realtime_settings() -> RealtimeSettings:
    return RealtimeSettings()
