"""The one clock. Every "now" in the server and the worker comes from here.

Two readings, because they answer different questions:
- `now()` is the programme's time: deadlines, offers expiring, follow-ups falling due,
  rounds, reports. Tests set it and move it; the simulated programme runs it faster
  (`CLOCK_SPEED`, `CLOCK_START`), or steps it from outside (`CLOCK_FILE`: every process
  reads the same instant from one file the simulation rewrites), so a year of consults
  passes in minutes.
- `wall()` is the seconds that really pass: token lifetimes, signatures a partner checks
  against its own clock, ids that sort by creation. Running the programme faster must not
  expire every token in a second or make a partner refuse every webhook.
"""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, anchor: float | None = None
    ) -> None:
        self._frozen: datetime | None = None
        self._file: Path | None = None
        self._file_stamp: tuple[int, int] | None = None
        self._file_now: datetime | None = None
        self.run(start, speed, anchor)

    def run(
        self, start: datetime | None = None, speed: float = 1.0, anchor: float | None = None
    ) -> None:
        """Tick from `start` (default: the real now) at `speed` times real time. `anchor` is
        the real moment (Unix seconds) at which the clock reads `start` (default: now), so
        that several processes started one after another share one programme time."""
        if speed <= 0:
            raise ValueError("the clock's speed must be positive")
        self._origin_real = time.time() if anchor is None else anchor
        self._origin = (start or datetime.fromtimestamp(self._origin_real, UTC)).astimezone(UTC)
        self._speed = speed
        self._frozen = None

    def now(self) -> datetime:
        if self._file is not None and (read := self._read_file()) is not None:
            return read
        if self._frozen is not None:
            return self._frozen
        elapsed = (time.time() - self._origin_real) * self._speed
        return self._origin + timedelta(seconds=elapsed)

    def follow(self, path: Path | None) -> None:
        """Read now from `path` (an RFC 3339 instant, replaced whole by whoever moves time:
        a simulation stepping every process of a programme at once); None: stop."""
        self._file, self._file_stamp, self._file_now = path, None, None

    def _read_file(self) -> datetime | None:
        assert self._file is not None
        try:
            st = os.stat(self._file)
            stamp = (st.st_ino, st.st_mtime_ns)
            if stamp != self._file_stamp:
                text = self._file.read_text().strip()
                self._file_now = datetime.fromisoformat(text).astimezone(UTC)
                self._file_stamp = stamp
        except (FileNotFoundError, ValueError):
            return None  # not written yet (or mid-write): the clock's own reading
        return self._file_now

    def wall(self) -> float:
        """Real seconds since the epoch (see the module's docstring for when to use it)."""
        return time.time()

    @property
    def speed(self) -> float:
        return self._speed

    # What tests use.
    def set(self, instant: datetime) -> None:
        """Jump to `instant` and keep ticking from there (at the same speed)."""
        frozen = self._frozen is not None
        self.run(instant, self._speed)
        if frozen:
            self._frozen = self._origin

    def freeze(self, instant: datetime | None = None) -> None:
        """Stop at `instant` (default: now) until `set`, `advance` or `run`."""
        self._frozen = (instant or self.now()).astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (frozen stays frozen); returns the new now."""
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._origin += delta
        return self.now()


clock = Clock()


def utcnow() -> datetime:
    return clock.now()


def configure(
    start: datetime | None,
    speed: float,
    anchor: float | None = None,
    file: Path | None = None,
) -> None:
    """Apply the CLOCK_START / CLOCK_SPEED / CLOCK_ANCHOR / CLOCK_FILE settings (at start-up)."""
    if start is not None or speed != 1.0:
        clock.run(start, speed, anchor)
    if file is not None:
        clock.follow(file)
