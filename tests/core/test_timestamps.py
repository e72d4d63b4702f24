"""Timestamps go in as aware UTC and come back as aware UTC, on either database, whichever
way they were written."""

from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from app.core.db import UTCDateTime, sessionmaker
from app.organizations.models import Organization
from tests.timing import T0

# The programme's start (the tests' clock), with and without a fraction of a second.
_EXACT = T0.replace(microsecond=123456)
_PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # As SQLAlchemy writes it on SQLite (and app.core.queries.Queries.ts does).
        (_EXACT.replace(tzinfo=None).isoformat(" ", "microseconds"), _EXACT),
        # SQLite's own CURRENT_TIMESTAMP: no fraction.
        (T0.replace(tzinfo=None).isoformat(" ", "seconds"), T0),
        # Text with its own offset (written by hand, say): converted, not relabelled.
        (T0.astimezone(_PLUS_TWO).isoformat(), T0),
        (None, None),
    ],
)
def test_sqlite_text_reads_back_as_utc(stored, expected):
    d = sqlite.dialect()
    read = UTCDateTime().dialect_impl(d).result_processor(d, None)
    got = read(stored)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC


def test_postgres_values_are_converted_to_utc():
    d = postgresql.dialect()
    read = UTCDateTime().dialect_impl(d).result_processor(d, None)
    plus_two = T0.astimezone(_PLUS_TWO)
    got = read(plus_two)
    assert got == plus_two and got.tzinfo is UTC


async def test_a_timestamp_round_trips_through_the_database(app, factory, clock):
    # The programme's time, to the last microsecond of its day.
    when = clock.now().replace(hour=23, minute=59, second=59, microsecond=999999)
    org = await factory.make_org()
    async with sessionmaker()() as s:
        await s.execute(
            text("UPDATE organization SET updated_at = :t WHERE id = :id"),
            {"t": UTCDateTime().process_bind_param(when, s.get_bind().dialect), "id": org.id},
        )
        await s.commit()
    async with sessionmaker()() as s:
        back = await s.get(Organization, org.id)
    assert back is not None and back.updated_at == when and back.updated_at.tzinfo is UTC
