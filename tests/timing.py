"""The programme's clock in tests (app/core/clock.py).

Every test starts the clock at T0 and lets it tick (the autouse `clock` fixture), so a date
written in a test means the same thing next year; a test that needs time to pass moves the
clock (`clock.advance(...)`) instead of sleeping. A socket's own waits (a send, a close) run
on the event loop's clock, not the programme's: a test moves that one with `advance_loop`.
"""

import asyncio
from datetime import UTC, datetime

from app.core.clock import clock

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


def clock_env() -> dict[str, str]:
    """The environment that starts another process of the app at this test's now."""
    return {"CLOCK_START": clock.now().isoformat()}


def advance_loop(seconds: float) -> None:
    """Move the running event loop's clock forward by `seconds`: what waits on it
    (`asyncio.timeout`, `call_later`: a socket's close waiting behind its sends) acts as if
    that much time had passed once the test next yields. The clock never goes back (the
    suite's loop lives on, and timers set later are set from the moved clock)."""
    loop = asyncio.get_running_loop()
    current = loop.time
    loop.time = lambda: current() + seconds  # type: ignore[method-assign]
