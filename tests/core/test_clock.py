"""The one clock (app/core/clock.py): tests set it and move it; a simulation runs it faster."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.core.clock import Clock, configure, utcnow
from app.core.config import Settings
from tests.timing import T0


def test_every_test_starts_at_t0_and_the_app_reads_the_same_clock(clock):
    assert T0 <= utcnow() < T0 + timedelta(minutes=1)
    clock.advance(timedelta(days=3))
    assert T0 + timedelta(days=3) <= utcnow() < T0 + timedelta(days=3, minutes=1)


def test_frozen_time_moves_only_when_told():
    c = Clock()
    c.freeze(T0)
    assert c.now() == T0 == c.now()
    assert c.advance(timedelta(hours=1)) == T0 + timedelta(hours=1)
    c.set(T0)  # still frozen, now at T0
    assert c.now() == T0


def test_a_faster_clock_runs_faster_from_its_start(monkeypatch):
    import app.core.clock as mod

    real = [1_000_000.0]
    monkeypatch.setattr(mod.time, "time", lambda: real[0])
    c = Clock(start=T0, speed=3600.0)  # an hour a second
    real[0] += 2.0
    assert c.now() == T0 + timedelta(hours=2)
    assert c.wall() == real[0]  # real seconds stay real (tokens, signatures)


def test_configure_keeps_real_time_unless_asked(clock):
    configure(None, 1.0)
    assert T0 <= utcnow() < T0 + timedelta(minutes=1)  # untouched


def test_settings_refuse_a_moved_clock_in_production():
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="s" * 32, clock_speed=10.0)
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="s" * 32, clock_start=T0)
    with pytest.raises(ValidationError):
        Settings(environment="test", secret_key="s" * 32, clock_speed=0)
    s = Settings(environment="test", secret_key="s" * 32, clock_speed=60.0, clock_start=T0)
    assert s.clock_speed == 60.0 and s.clock_start == T0


def test_processes_given_one_anchor_share_one_programme_time(monkeypatch):
    """Two processes that start a second apart with the same CLOCK_ANCHOR read the same now
    (without it, at an hour a second, they would be an hour apart)."""
    import app.core.clock as mod

    real = [1_000_000.0]
    monkeypatch.setattr(mod.time, "time", lambda: real[0])
    first = Clock(start=T0, speed=3600.0, anchor=999_999.0)
    real[0] += 1.0
    second = Clock(start=T0, speed=3600.0, anchor=999_999.0)
    assert first.now() == second.now() == T0 + timedelta(hours=2)
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="s" * 32, clock_anchor=1.0)
    assert Settings(environment="test", secret_key="s" * 32, clock_anchor=5.0).clock_anchor == 5.0


def test_a_clock_file_steps_every_reader_at_once(tmp_path):
    """CLOCK_FILE: the instant in the file is now for every process that follows it; a
    rewrite moves them all; without the file the clock keeps its own reading."""
    path = tmp_path / "now"
    c = Clock()
    c.freeze(T0)
    configure_file = Clock()
    configure_file.follow(path)
    c.follow(path)
    assert c.now() == T0  # no file yet: its own reading
    later = T0 + timedelta(days=40, hours=3)
    tmp = tmp_path / "now.tmp"
    tmp.write_text(later.isoformat())
    tmp.replace(path)
    assert c.now() == later == configure_file.now()
    tmp.write_text((later + timedelta(minutes=5)).isoformat())
    tmp.replace(path)
    assert c.now() == later + timedelta(minutes=5)
    c.follow(None)
    assert c.now() == T0
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="s" * 32, clock_file=path)
