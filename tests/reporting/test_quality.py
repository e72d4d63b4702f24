"""GET /metrics/quality against a small history whose figures are worked out by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.followups.models import Feedback, FollowUp
from app.notes.models import Note

API = "/api/v1"
T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)


async def _add(*objs):
    async with sessionmaker()() as s:
        s.add_all(objs)
        await s.commit()


async def _message(case_id, seq, sender, role, at):
    from app.consults.models import Message

    await _add(
        Message(
            case_id=case_id,
            seq=seq,
            sender_id=sender.id,
            sender_role=role,
            body="...",
            client_msg_id=f"c{seq}",
            created_at=at,
        )
    )


def _note(case, author, kind, signed_at, acknowledged=False):
    return Note(
        case_id=case.id,
        author_id=author.id,
        kind=kind,
        status="signed",
        version=2,
        signed_at=signed_at,
        signed_by_id=author.id,
        created_at=T,
        updated_at=signed_at,
        acknowledged_at=signed_at + H if acknowledged else None,
    )


@pytest.fixture
async def history(factory):
    """Facility A, dermatology, all submitted at T:
    c1  assigned T+30m, specialist writes T+45m (a clinician wrote T+10m), consult signed T+2h
        (respond_by T+72h: in time), acknowledged.
    c2  assigned T+90m, specialist writes T+5h and T+6h, consult signed T+80h (respond_by
        T+72h: late, and over 72 h), not acknowledged.
    c3  assigned T+10m, no messages, consult signed T+20h (urgent, respond_by T+12h: late, but
        within 72 h), acknowledged; a progress note signed T+30h, not acknowledged.
    c4  unmatched, never assigned, respond_by T+72h (passed, unanswered).
    c5  cancelled, respond_by passed (left out of the SLA shares).
    c6  facility A, cardiology, assigned T+1000m (only without the specialty filter).
    c7  facility B (only for coordinators looking programme-wide).
    """
    org_a, org_b = await factory.make_org(), await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org_a.id)
    spec = await factory.make_user(Role.specialist)
    mk = factory.make_case
    c1 = await mk(
        org_a.id,
        created_at=T,
        assigned_at=T + 30 * M,
        status="answered",
        assigned_specialist_id=spec.id,
        respond_by=T + 72 * H,
    )
    c2 = await mk(
        org_a.id,
        created_at=T,
        assigned_at=T + 90 * M,
        status="answered",
        assigned_specialist_id=spec.id,
        respond_by=T + 72 * H,
    )
    c3 = await mk(
        org_a.id,
        created_at=T,
        assigned_at=T + 10 * M,
        status="answered",
        assigned_specialist_id=spec.id,
        respond_by=T + 12 * H,
        urgency="urgent",
    )
    c4 = await mk(org_a.id, created_at=T, status="unmatched", respond_by=T + 72 * H)
    c5 = await mk(org_a.id, created_at=T, status="cancelled", respond_by=T + 72 * H)
    await mk(
        org_a.id,
        created_at=T,
        specialty="cardiology",
        status="assigned",
        assigned_at=T + 1000 * M,
        assigned_specialist_id=spec.id,
        respond_by=T + 72 * H,
    )
    await mk(org_b.id, created_at=T, respond_by=T + 72 * H, status="submitted")

    await _message(c1.id, 1, clin, "clinician", T + 10 * M)
    await _message(c1.id, 2, spec, "specialist", T + 45 * M)
    await _message(c2.id, 1, spec, "specialist", T + 5 * H)
    await _message(c2.id, 2, spec, "specialist", T + 6 * H)

    await _add(
        _note(c1, spec, "consult", T + 2 * H, acknowledged=True),
        _note(c2, spec, "consult", T + 80 * H),
        _note(c3, spec, "consult", T + 20 * H, acknowledged=True),
        _note(c3, spec, "progress", T + 30 * H),
        # A draft never counts.
        Note(case_id=c4.id, author_id=spec.id, kind="consult", created_at=T, updated_at=T),
    )

    other = await factory.make_user(Role.specialist)
    for case, sp, status in [
        (c1, spec, "accepted"),
        (c2, other, "declined"),
        (c2, spec, "accepted"),
        (c4, spec, "expired"),
        (c4, other, "expired"),
        (c5, spec, "pending"),
        (c5, other, "withdrawn"),
    ]:
        await factory.make_offer(case.id, sp.id, status=status)

    await _add(
        Feedback(case_id=c1.id, author_id=clin.id, usefulness=5, changed_management=True),
        Feedback(case_id=c2.id, author_id=clin.id, usefulness=2, changed_management=False),
        Feedback(case_id=c3.id, author_id=clin.id, usefulness=4, changed_management=True),
    )

    def fu(case, due, status="open"):
        return FollowUp(
            case_id=case.id,
            organization_id=case.organization_id,
            specialty=case.specialty,
            due_at=due,
            description="check",
            assignee_id=clin.id,
            status=status,
        )

    await _add(
        fu(c1, T + 7 * 24 * H, "done"),
        fu(c2, T + 7 * 24 * H, "missed"),
        fu(c3, T + 3 * 24 * H),
        fu(c3, utcnow() + 365 * 24 * H),  # not yet due, a year from the tests' clock
        fu(c1, T + 24 * H, "cancelled"),
    )

    await _rounds(org_a, clin, spec)
    return {"org_a": org_a, "org_b": org_b, "clinician": clin, "specialist": spec}


async def _rounds(org, clin, spec):
    from app.rounds.models import RoundAttendance, RoundSeries

    series = RoundSeries(
        title="Skin round",
        host_organization_id=org.id,
        timezone="UTC",
        starts_at_local="2026-03-03T08:00",
        starts_at=T + 24 * H,
        duration_minutes=60,
        rrule="FREQ=WEEKLY",
        specialty="dermatology",
    )
    await _add(series)
    o1, o2, o3 = T + 24 * H, T + 8 * 24 * H, T + 15 * 24 * H
    colleague = clin.id  # two local people attended o1: the clinician and a nurse account
    await _add(
        RoundAttendance(
            series_id=series.id, occurrence_start=o1, user_id=colleague, attended=True, local=True
        ),
        RoundAttendance(
            series_id=series.id, occurrence_start=o1, user_id=spec.id, attended=True, local=False
        ),
    )
    nurse = await _nurse(org)
    await _add(
        RoundAttendance(
            series_id=series.id, occurrence_start=o1, user_id=nurse, attended=True, local=True
        ),
        RoundAttendance(
            series_id=series.id, occurrence_start=o2, user_id=colleague, attended=True, local=True
        ),
        RoundAttendance(
            series_id=series.id, occurrence_start=o2, user_id=nurse, attended=False, local=True
        ),
        RoundAttendance(
            series_id=series.id, occurrence_start=o3, user_id=nurse, attended=False, local=True
        ),
    )


async def _nurse(org):
    from tests.factories import Factory

    return (await Factory().make_user(Role.clinician, organization_id=org.id)).id


async def test_figures_match_the_hand_computed_ones(client, factory, history):
    params = {
        "specialty": "dermatology",
        "from": (T - H).isoformat(),
        "to": (T + 30 * 24 * H).isoformat(),
    }
    r = await client.get(
        f"{API}/metrics/quality", params=params, headers=factory.headers(history["clinician"])
    )
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["filters"]["organization_id"] == history["org_a"].id  # a clinician's own, implied
    # c1..c5 (c6 is cardiology, c7 another facility).
    assert m["cases_submitted"] == 5
    # Accept: c3 10, c1 30, c2 90 min -> sorted [10, 30, 90], n = 3.
    #   median: r = 0.5 * 2 = 1   -> 30
    #   p90:    r = 0.9 * 2 = 1.8 -> 30 + (90 - 30) * 0.8 = 78
    assert m["time_to_accept"] == {"median_minutes": 30.0, "p90_minutes": 78.0, "count": 3}
    # First specialist message: c1 45 min (the clinician's at 10 min does not count), c2 300.
    #   median: r = 0.5 -> 45 + 255 * 0.5 = 172.5;  p90: r = 0.9 -> 45 + 255 * 0.9 = 274.5
    assert m["time_to_first_response"] == {
        "median_minutes": 172.5,
        "p90_minutes": 274.5,
        "count": 2,
    }
    # First signed consult note: c1 120, c3 1200, c2 4800 (c3's progress note is not one).
    #   median 1200; p90: r = 1.8 -> 1200 + (4800 - 1200) * 0.8 = 4080
    assert m["time_to_signed_note"] == {"median_minutes": 1200.0, "p90_minutes": 4080.0, "count": 3}
    # SLA known for c1, c2, c3 (signed) and c4 (deadline passed); c5 cancelled: n = 4.
    #   in time: only c1 (c3 signed at 20 h against 12 h) -> 1 / 4
    assert m["answered_within_sla_rate"] == 0.25
    #   within 72 h: c1 (2 h) and c3 (20 h) -> 2 / 4
    assert m["answered_within_72h_rate"] == 0.5
    # Offers answered or expired: accepted 2, declined 1, expired 2 (pending and withdrawn
    # are left out) -> 2 / 5
    assert m["offer_acceptance_rate"] == 0.4
    assert m["unmatched"] == 1
    # Follow-ups: done 1, missed 1, open and past due 1; the 2099 one is not due yet and the
    # cancelled one does not count -> due = 3.
    assert m["follow_ups"] == {
        "due": 3,
        "done": 1,
        "missed": 1,
        "overdue": 1,
        "moved_after_due": 0,  # none of its follow-ups was planned again
    }
    # Signed notes: c1 (ack), c2, c3 consult (ack), c3 progress -> 2 / 4
    assert m["notes_acknowledged_rate"] == 0.5
    # Feedback 5, 2, 4 -> 11 / 3 = 3.6667; changed management 2 / 3 = 0.6667
    assert m["usefulness_mean"] == 3.6667
    assert m["changed_management_rate"] == 0.6667
    # Rounds: o1 (3 attended, 2 local) and o2 (1 local attended; 1 absent) were held; o3 had
    # nobody -> 2 held, (2 + 1) / 2 = 1.5 local attendees each.
    assert m["rounds"] == {"occurrences_held": 2, "local_attendees_per_occurrence": 1.5}


async def test_filters_and_an_empty_period(client, factory, history):
    h = factory.headers(history["clinician"])
    r = await client.get(f"{API}/metrics/quality", headers=h)
    # Without the specialty filter c6 joins: 6 cases, and its accept time (1000 min) too.
    m = r.json()
    assert m["cases_submitted"] == 6
    # [10, 30, 90, 1000]: median r = 1.5 -> 30 + 60 * 0.5 = 60; p90 r = 2.7 -> 90 + 910 * 0.7
    assert m["time_to_accept"] == {"median_minutes": 60.0, "p90_minutes": 727.0, "count": 4}
    r = await client.get(f"{API}/metrics/quality", headers=h, params={"from": (T + H).isoformat()})
    m = r.json()
    assert m["cases_submitted"] == 0
    assert m["time_to_accept"] == {"median_minutes": None, "p90_minutes": None, "count": 0}
    for k in (
        "answered_within_sla_rate",
        "offer_acceptance_rate",
        "notes_acknowledged_rate",
        "usefulness_mean",
        "changed_management_rate",
    ):
        assert m[k] is None, k
    # Follow-ups due from T+1h: the T+3d, T+7d (done, missed) ones still count.
    assert m["follow_ups"] == {
        "due": 3,
        "done": 1,
        "missed": 1,
        "overdue": 1,
        "moved_after_due": 0,  # none of its follow-ups was planned again
    }
    assert m["rounds"]["occurrences_held"] == 2


async def test_who_sees_which_facility(client, factory, history):
    url = f"{API}/metrics/quality"
    coord = await factory.make_user(Role.coordinator)
    r = await client.get(url, headers=factory.headers(coord))
    assert r.status_code == 200 and r.json()["cases_submitted"] == 7
    assert r.json()["filters"]["organization_id"] is None
    r = await client.get(
        url, headers=factory.headers(coord), params={"organization_id": history["org_b"].id}
    )
    assert r.json()["cases_submitted"] == 1
    clin = factory.headers(history["clinician"])
    r = await client.get(url, headers=clin, params={"organization_id": history["org_b"].id})
    assert r.status_code == 404
    r = await client.get(url, headers=clin, params={"organization_id": history["org_a"].id})
    assert r.status_code == 200 and r.json()["cases_submitted"] == 6
    app_a = await factory.make_client(history["org_a"].id)
    r = await client.get(url, headers=factory.headers(app_a))
    assert r.status_code == 200 and r.json()["cases_submitted"] == 6
    no_read = await factory.make_client(history["org_a"].id, scopes=["rounds:read"])
    r = await client.get(url, headers=factory.headers(no_read))
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    assert (
        await client.get(url, headers=factory.headers(history["specialist"]))
    ).status_code == 403
    assert (await client.get(url)).status_code == 401
    r = await client.get(url, headers=clin, params={"from": "2026-03-01T00:00:00"})
    assert r.status_code == 422  # a time without an offset is ambiguous


async def test_percentile_matches_postgres_definition():
    """The SQLite path's arithmetic against worked values of percentile_cont."""
    from app.reporting.service import _percentile

    assert _percentile(0.5, 1, 7.0, None) == 7.0
    assert _percentile(0.9, 2, 45.0, 300.0) == pytest.approx(274.5)
    assert _percentile(0.5, 4, 30.0, 90.0) == 60.0
    assert _percentile(0.5, 0, None, None) is None


async def test_random_durations_match_type_7_percentiles_to_the_second(client, factory):
    """Timestamps with arbitrary microseconds: the database answer equals the definition
    (whole seconds per timestamp, type-7 interpolation) computed here in Python."""
    import random
    import statistics

    rnd = random.Random(7)
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    seconds = []
    for _ in range(23):
        created = T + timedelta(minutes=rnd.randint(0, 5000), microseconds=rnd.randint(0, 999999))
        assigned = created + timedelta(
            seconds=rnd.randint(1, 200000), microseconds=rnd.randint(0, 999999)
        )
        await factory.make_case(
            org.id,
            created_at=created,
            assigned_at=assigned,
            status="assigned",
            respond_by=created + 72 * H,
        )
        seconds.append(int(assigned.timestamp() // 1) - int(created.timestamp() // 1))
    median = statistics.quantiles(seconds, n=2, method="inclusive")[0]
    p90 = statistics.quantiles(seconds, n=10, method="inclusive")[8]
    r = await client.get(f"{API}/metrics/quality", headers=factory.headers(coord))
    assert r.json()["time_to_accept"] == {
        "median_minutes": round(median / 60, 2),
        "p90_minutes": round(p90 / 60, 2),
        "count": 23,
    }


async def test_a_period_the_wrong_way_round_is_refused_not_shown_as_zeros(client, factory, history):
    h = factory.headers(history["clinician"])
    url = f"{API}/metrics/quality"
    for start, end in ((T + H, T), (T, T)):
        r = await client.get(
            url, headers=h, params={"from": start.isoformat(), "to": end.isoformat()}
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert "`to` must be after `from`" in problem["detail"]
        assert problem["errors"] == [
            {"pointer": "#query/to", "detail": "must be after from", "code": "after_start"}
        ]
    r = await client.get(url, headers=h, params={"from": T.isoformat(), "to": (T + H).isoformat()})
    assert r.status_code == 200 and r.json()["cases_submitted"] == 6
