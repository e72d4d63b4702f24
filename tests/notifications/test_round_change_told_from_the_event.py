"""A round's change is told from its `round.updated` event and the rounds domain's public
schedule (app/rounds/schedule.py), not by reading the rounds' tables of exceptions or
expanding rules in the notifications package.

The event says, beside a cancelled or moved meeting's original start, where it now starts
(`moved_to`, null as scheduled), its own length (`duration_minutes`, null: the series'),
whether a reason was given (`reason_given`: never the reason, free text a partner's
webhook must not carry) and who changed it (`by_id`); a schedule split says who split it.
The clock is the tests' (T0); every date is derived from it."""

import ast
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.notifications.models import Notification
from tests.notifications.support import API
from tests.rounds.support import make_round

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "app" / "notifications"
SALTA = "America/Argentina/Salta"


async def _events(round_id: str) -> list[dict[str, Any]]:
    async with sessionmaker()() as s:
        rows = await s.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == "round.updated", OutboxEvent.resource_id == round_id)
            .order_by(OutboxEvent.id)
        )
        return [dict(e.payload) for e in rows.all()]


async def _round(factory: Any, weeks_ago: int = 0) -> tuple[Any, Any, str]:
    org = await factory.make_org(name="Hospital San Bernardo", country="AR", timezone=SALTA)
    coord = await factory.make_user(Role.coordinator)
    spec = await factory.make_user(Role.specialist)
    first = (utcnow() + timedelta(days=3 - 7 * weeks_ago)).astimezone(ZoneInfo(SALTA))
    rnd = await make_round(
        org.id,
        timezone=SALTA,
        rrule="FREQ=WEEKLY",
        starts_at_local=first.strftime("%Y-%m-%dT08:30"),
        participants=[(spec.id, "specialist")],
    )
    return coord, spec, rnd.id


async def _coming(client: Any, factory: Any, coord: Any, rid: str) -> list[str]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=factory.headers(coord))
    assert r.status_code == 200, r.text
    return [o["start"] for o in r.json()["items"]]


async def test_a_move_and_a_cancellation_say_how_the_meeting_stands(client, factory):
    coord, spec, rid = await _round(factory)
    first, second = (await _coming(client, factory, coord, rid))[:2]
    to = datetime.fromisoformat(second) + timedelta(days=1)
    r = await client.patch(
        f"{API}/rounds/{rid}/occurrences/{second}",
        json={
            "starts_at_local": to.astimezone(ZoneInfo(SALTA)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 90,
            "reason": "Dr Okafor is travelling",
        },
        headers=factory.headers(coord),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/rounds/{rid}/occurrences/{first}/cancel", headers=factory.headers(coord)
    )
    assert r.status_code == 200, r.text
    moved, cancelled = await _events(rid)
    assert moved["change"] == "occurrence_moved"
    assert datetime.fromisoformat(moved["moved_to"]) == to
    assert (moved["duration_minutes"], moved["reason_given"], moved["by_id"]) == (
        90,
        True,
        coord.id,
    )
    assert "Dr Okafor" not in str(moved)  # a partner's webhook carries no free text
    assert cancelled["change"] == "occurrence_cancelled"
    assert datetime.fromisoformat(cancelled["occurrence_start"]) == datetime.fromisoformat(first)
    assert (cancelled["moved_to"], cancelled["duration_minutes"]) == (None, None)
    assert (cancelled["reason_given"], cancelled["by_id"]) == (False, coord.id)

    # What the specialist is told keeps whether a reason was given, not the reason.
    async with sessionmaker()() as s:
        told = (await s.scalars(select(Notification).where(Notification.user_id == spec.id))).all()
    data = {n.data["change"]: n.data for n in told}
    assert data["moved"]["reason_given"] is True and "reason" not in data["moved"]
    assert "reason_given" not in data["cancelled"]


async def test_a_split_says_who_made_it(client, factory):
    coord, _, rid = await _round(factory, weeks_ago=3)
    r = await client.patch(
        f"{API}/rounds/{rid}", json={"duration_minutes": 90}, headers=factory.headers(coord)
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["id"]
    [ended] = await _events(rid)
    [created] = await _events(new_id)
    assert (ended["change"], ended["by_id"]) == ("ended", coord.id)
    assert (created["change"], created["previous_series_id"], created["by_id"]) == (
        "created",
        rid,
        coord.id,
    )


def test_the_notifications_read_no_exception_table_and_expand_no_rule():
    """Only the rounds domain's public schedule: no table of exceptions, no rule."""
    wrong = []
    for path in sorted(NOTIFICATIONS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                if (
                    node.module in ("app.rounds.recurrence", "dateutil.rrule")
                    or (node.module == "app.rounds" and "recurrence" in names)
                    or "RoundOccurrenceException" in names
                ):
                    wrong.append(f"{path.name}:{node.lineno} {node.module}")
            elif isinstance(node, ast.Import):
                wrong += [
                    f"{path.name}:{node.lineno} {a.name}"
                    for a in node.names
                    if a.name in ("app.rounds.recurrence", "dateutil.rrule")
                ]
    assert wrong == []
