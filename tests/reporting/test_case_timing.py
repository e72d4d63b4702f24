"""The timing table the measures read stays current as cases move, without a full rebuild."""

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.reporting.models import CaseTiming
from app.reporting.rollup import catch_up
from tests.notes.helpers import API, note_world, rows, write_note


async def _metrics(client, factory, who):
    r = await client.get(f"{API}/metrics/quality", headers=factory.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


async def _timing_rows():
    async with sessionmaker()() as s:
        return {t.case_id: t.model_dump() for t in (await s.scalars(select(CaseTiming))).all()}


async def test_changes_after_the_first_pass_are_picked_up(client, factory):
    start = utcnow().replace(microsecond=0) - timedelta(hours=2)
    w = await note_world(factory, created_at=start, assigned_at=start + timedelta(minutes=20))
    coord = await factory.make_user(Role.coordinator)
    m = await _metrics(client, factory, coord)
    assert m["cases_submitted"] == 1 and m["time_to_signed_note"]["count"] == 0
    assert m["time_to_accept"]["median_minutes"] == 20.0

    # Signing answers the case (a lifecycle event): the next read knows.
    note = await write_note(client, factory, w)
    r = await client.post(
        f"{API}/notes/{note['id']}/sign",
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200
    # A specialist's message, and a new case, both after the first pass.
    from app.consults.models import Message

    async with sessionmaker()() as s:
        s.add(
            Message(
                case_id=w.case.id,
                seq=1,
                sender_id=w.specialist.id,
                sender_role="specialist",
                body="Hello",
                client_msg_id="a",
                created_at=start + timedelta(minutes=50),
            )
        )
        await s.commit()
    await factory.make_case(w.org.id, created_at=start)

    m = await _metrics(client, factory, coord)
    assert m["cases_submitted"] == 2
    assert m["time_to_signed_note"]["count"] == 1
    assert 119 <= m["time_to_signed_note"]["median_minutes"] <= 121
    assert m["time_to_first_response"] == {"median_minutes": 50.0, "p90_minutes": 50.0, "count": 1}
    assert m["answered_within_sla_rate"] == 1.0
    assert m["notes_acknowledged_rate"] == 0.0 and m["usefulness_mean"] is None

    # Acknowledging and feedback show at once too.
    r = await client.post(
        f"{API}/notes/{note['id']}/acknowledge", headers=factory.headers(w.clinician)
    )
    assert r.status_code == 200
    r = await client.post(
        f"{API}/cases/{w.case.id}/feedback",
        headers=factory.headers(w.clinician),
        json={"usefulness": 4, "changed_management": True},
    )
    assert r.status_code == 201
    m = await _metrics(client, factory, coord)
    assert m["notes_acknowledged_rate"] == 1.0
    assert m["usefulness_mean"] == 4.0 and m["changed_management_rate"] == 1.0

    # What the incremental passes built is exactly what a full rebuild builds.
    incremental = await _timing_rows()
    async with sessionmaker()() as s:
        assert await catch_up(s, rebuild=True) == -1
        await s.commit()
    assert await _timing_rows() == incremental
    assert incremental[w.case.id]["status"] == "answered"


async def test_the_worker_job_keeps_it_current(client, factory):
    from app.reporting.jobs import case_timing

    w = await note_world(factory)
    await case_timing()
    rows = await _timing_rows()
    assert set(rows) == {w.case.id} and rows[w.case.id]["assigned_s"] is not None


async def test_replaced_feedback_counts_at_once(client, factory):
    """Reporting hears feedback.given in the giving transaction: a replacement keeps the
    row's id, so a catch-up pass (which finds new feedback by id) would not see it."""
    from app.followups.models import Feedback

    # A case (and its feedback) from long ago: their ids are older than any catch-up pass
    # looks back, so only the listener can tell reporting of the replacement.
    w = await note_world(factory, id="case_000000000001", status="answered", answered_at=utcnow())
    coord = await factory.make_user(Role.coordinator)
    await _metrics(client, factory, coord)  # the first pass has run
    async with sessionmaker()() as s:
        s.add(
            Feedback(
                id="fb_000000000001",
                case_id=w.case.id,
                author_id=w.clinician.id,
                usefulness=4,
                changed_management=True,
            )
        )
        await s.commit()
    url, h = f"{API}/cases/{w.case.id}/feedback", factory.headers(w.clinician)
    r = await client.post(url, json={"usefulness": 2, "changed_management": False}, headers=h)
    assert r.status_code == 200 and r.json()["revision"] == 2
    m = await _metrics(client, factory, coord)
    assert m["usefulness_mean"] == 2.0 and m["changed_management_rate"] == 0.0
    r = await client.post(url, json={"usefulness": 5, "changed_management": True}, headers=h)
    m = await _metrics(client, factory, coord)
    assert m["usefulness_mean"] == 5.0 and m["changed_management_rate"] == 1.0
    events = await rows(
        select(OutboxEvent).where(OutboxEvent.type == "feedback.given").order_by(OutboxEvent.id)
    )
    assert [e.payload["revision"] for e in events] == [2, 3]
    assert all(e.payload["case_id"] == w.case.id and "comment" not in e.payload for e in events)


def test_notes_and_follow_ups_do_not_import_reporting():
    """Reporting depends on them, never the reverse."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    for pkg in ("notes", "followups"):
        for path in (root / pkg).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    assert not (node.module or "").startswith("app.reporting"), path
                elif isinstance(node, ast.Import):
                    assert not any(a.name.startswith("app.reporting") for a in node.names), path
