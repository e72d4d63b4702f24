"""The programme's clock in tests (app/core/clock.py).

Every test starts the clock at T0 and lets it tick (the autouse `clock` fixture), so a date
written in a test means the same thing next year; a test that needs time to pass moves the
clock (`clock.advance(...)`) instead of sleeping.
"""

from datetime import UTC, datetime

from app.core.clock import clock

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


def clock_env() -> dict[str, str]:
    """The environment that starts another process of the app at this test's now."""
    return {"CLOCK_START": clock.now().isoformat()}
