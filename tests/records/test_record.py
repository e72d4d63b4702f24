from datetime import datetime, timedelta

from app.cases.models import CaseParticipant
from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.notes.helpers import API, note_world, write_note


async def _round_recommendation(case_id: str, org_id: str, presenter_id: str) -> str:
    from app.rounds.models import RoundAgendaItem, RoundSeries

    start = utcnow() - timedelta(minutes=30)
    async with sessionmaker()() as s:
        series = RoundSeries(
            title="Dermatology Tuesday",
            host_organization_id=org_id,
            timezone="UTC",
            starts_at_local=start.strftime("%Y-%m-%dT%H:%M"),
            starts_at=start,
            duration_minutes=60,
            rrule="FREQ=WEEKLY",
            specialty="dermatology",
        )
        s.add(series)
        await s.flush()
        s.add(
            RoundAgendaItem(
                series_id=series.id,
                occurrence_start=start,
                case_id=case_id,
                presenter_id=presenter_id,
                recommendation="Biopsy if no better",
                recommended_at=utcnow(),
            )
        )
        await s.commit()
        return series.id


async def test_the_record_tells_the_whole_story_in_time_order(client, factory):
    t0 = utcnow() - timedelta(hours=5)
    w = await note_world(factory, created_at=t0, assigned_at=t0 + timedelta(hours=1))
    await factory.make_offer(
        w.case.id,
        w.specialist.id,
        status="accepted",
        created_at=t0 + timedelta(minutes=10),
        responded_at=t0 + timedelta(minutes=50),
    )
    # Offered to a second specialist too: withdrawn when the first accepted.
    other = await factory.make_user(Role.specialist)
    await factory.make_offer(
        w.case.id,
        other.id,
        status="withdrawn",
        created_at=t0 + timedelta(minutes=11),
        responded_at=t0 + timedelta(minutes=50),
    )
    interpreter = await factory.make_user(Role.interpreter)
    async with sessionmaker()() as s:
        s.add(
            CaseParticipant(
                case_id=w.case.id,
                user_id=interpreter.id,
                role="interpreter",
                added_by_id=w.clinician.id,
                created_at=t0 + timedelta(hours=2),
            )
        )
        await s.commit()
    spec_h = factory.headers(w.specialist)
    note = await write_note(client, factory, w, assessment="Draft wording")
    r = await client.patch(
        f"{API}/notes/{note['id']}",
        json={"assessment": "Signed wording"},
        headers={**spec_h, "If-Match": '"1"'},
    )
    assert r.status_code == 200
    r = await client.post(f"{API}/notes/{note['id']}/sign", headers={**spec_h, "If-Match": '"2"'})
    assert r.status_code == 200
    draft = await write_note(client, factory, w, kind="progress", assessment="not signed yet")
    await _round_recommendation(w.case.id, w.org.id, w.clinician.id)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=spec_h,
        json={
            "due_at": (utcnow() + timedelta(days=7)).isoformat(),
            "description": "Check response to treatment",
            "assignee_id": w.clinician.id,
        },
    )
    fu = r.json()
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"status": "done", "outcome": "Improved"},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 200
    r = await client.post(
        f"{API}/cases/{w.case.id}/feedback",
        json={"usefulness": 5, "changed_management": True},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 201

    r = await client.get(f"{API}/cases/{w.case.id}/record", headers=factory.headers(w.clinician))
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["case_id"] == w.case.id and rec["status"] == "answered"
    types = [e["type"] for e in rec["entries"]]
    assert types == [
        "intake",
        "offer",
        "offer",
        "offer_accepted",
        "offer_withdrawn",
        "assignment",
        "participant",
        "note",
        "round_recommendation",
        "follow_up",
        "follow_up_outcome",
        "feedback",
    ]
    ats = [e["at"] for e in rec["entries"]]
    assert ats == sorted(ats, key=lambda a: datetime.fromisoformat(a))
    by_type = {e["type"]: e for e in rec["entries"]}
    assert by_type["intake"]["question"] == w.case.question
    assert by_type["assignment"]["specialist_id"] == w.specialist.id
    assert [e["specialist_id"] for e in rec["entries"] if e["type"] == "offer"] == [
        w.specialist.id,
        other.id,
    ]
    assert by_type["offer_withdrawn"]["specialist_id"] == other.id
    assert {k: by_type["participant"][k] for k in ("user_id", "role", "added_by_id")} == {
        "user_id": interpreter.id,
        "role": "interpreter",
        "added_by_id": w.clinician.id,
    }
    assert by_type["note"]["assessment"] == "Signed wording" and by_type["note"]["version"] == 3
    assert by_type["round_recommendation"]["recommendation"] == "Biopsy if no better"
    assert by_type["follow_up_outcome"]["outcome"] == "Improved"
    assert by_type["feedback"]["usefulness"] == 5
    # Drafts stay out of the record.
    assert draft["id"] not in {e["id"] for e in rec["entries"]}


async def test_the_record_follows_the_cases_full_view(client, factory):
    w = await note_world(factory)
    stranger = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    offered = await factory.make_user(Role.specialist)
    case = await factory.make_case(w.org.id)
    await factory.make_offer(case.id, offered.id)
    url = f"{API}/cases/{w.case.id}/record"
    assert (await client.get(url, headers=factory.headers(stranger))).status_code == 404
    assert (await client.get(url, headers=factory.headers(w.specialist))).status_code == 200
    # Someone with only an offer sees the summary, not the record.
    r = await client.get(f"{API}/cases/{case.id}/record", headers=factory.headers(offered))
    assert r.status_code == 404
