from datetime import timedelta

from app.cases.models import Case
from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.matching.ranking import rank
from tests.matching.support import API
from tests.specialists.support import make_specialist


async def _get(client, factory, who, case_id, **params):
    return await client.get(
        f"{API}/cases/{case_id}/candidates", params=params, headers=factory.headers(who)
    )


async def test_candidates_are_ranked_with_every_part_visible(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    es = await make_specialist(factory, languages=["es"], name="Speaks Spanish")
    busy_es = await make_specialist(factory, languages=["es-MX"], max_active_cases=2)
    elsewhere = await factory.make_org()
    await factory.make_case(elsewhere.id, assigned_specialist_id=busy_es.id)
    en = await make_specialist(factory, languages=["en"])
    await make_specialist(factory, specialties=["cardiology"], languages=["es"])
    case = await factory.make_case(org.id, languages=["es"])

    r = await _get(client, factory, clin, case.id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["specialist_id"] for c in body["items"]] == [es.id, busy_es.id, en.id]
    top, busy, other = body["items"]
    assert set(top["parts"]) == {
        "specialty",
        "language",
        "availability",
        "load",
        "continuity",
        "responsiveness",
        "fairness",
    }
    assert top["parts"]["language"] == 1.0 and not top["interpreter_needed"]
    assert busy["parts"]["load"] == 0.5 and busy["active_cases"] == 1
    assert other["parts"]["language"] == 0.0 and other["interpreter_needed"]
    assert top["available_now"] and top["score"] > busy["score"] > other["score"]
    assert body["excluded"] is None
    weights = body["weights"]
    expected = sum(weights[k] * top["parts"][k] for k in weights) / sum(weights.values())
    assert abs(top["score"] - expected) < 1e-3


async def test_nobody_speaks_the_language_still_gives_a_ranked_list(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    a = await make_specialist(factory, languages=["en"])
    b = await make_specialist(factory, languages=["fr"])
    case = await factory.make_case(org.id, languages=["qu"])
    r = await _get(client, factory, coord, case.id)
    items = r.json()["items"]
    assert {c["specialist_id"] for c in items} == {a.id, b.id}
    assert all(c["interpreter_needed"] for c in items)


async def test_continuity_prefers_who_answered_the_earlier_case(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    first = await make_specialist(factory)
    earlier_helper = await make_specialist(factory)
    stranger = await make_specialist(factory)
    earlier = await factory.make_case(org.id, status="closed", assigned_specialist_id=first.id)
    await factory.make_case(org.id, status="closed", assigned_specialist_id=earlier_helper.id)
    case = await factory.make_case(org.id, follow_up_of_id=earlier.id, languages=[])
    items = (await _get(client, factory, clin, case.id)).json()["items"]
    assert [c["specialist_id"] for c in items] == [first.id, earlier_helper.id, stranger.id]
    assert items[0]["parts"]["continuity"] == 1.0
    assert items[1]["parts"]["continuity"] == 0.5
    assert items[2]["parts"]["continuity"] == 0.0


async def test_explain_says_why_each_specialist_was_left_out(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    ok = await make_specialist(factory)
    unverified = await make_specialist(factory, verified=False)
    closed = await make_specialist(factory, accepting=False)
    now = utcnow()
    away = await make_specialist(
        factory, time_off=[{"start": now - timedelta(days=1), "end": now + timedelta(days=1)}]
    )
    full = await make_specialist(factory, max_active_cases=1)
    await factory.make_case(org.id, assigned_specialist_id=full.id)
    gone = await make_specialist(factory, active=False)
    case = await factory.make_case(org.id)

    body = (await _get(client, factory, coord, case.id, explain="true")).json()
    assert [c["specialist_id"] for c in body["items"]] == [ok.id]
    why = {e["specialist_id"]: e["reasons"] for e in body["excluded"]}
    assert why == {
        unverified.id: ["unverified"],
        closed.id: ["not_accepting"],
        away.id: ["on_time_off"],
        full.id: ["at_capacity"],
        gone.id: ["inactive"],
    }
    assert body["excluded_total"] == 5


async def test_sql_order_and_python_parts_agree(factory):
    org = await factory.make_org()
    now = utcnow()
    people = [
        await make_specialist(factory, languages=["es"], max_active_cases=4),
        await make_specialist(factory, languages=["en"], availability=[]),
        await make_specialist(
            factory,
            languages=["es"],
            timezone="Asia/Tokyo",
            availability=[{"weekday": d, "start": "00:00", "end": "00:30"} for d in range(7)],
        ),
        await make_specialist(factory, languages=["es"], max_active_cases=5),
    ]
    await factory.make_case(org.id, assigned_specialist_id=people[0].id)
    await factory.make_case(
        org.id,
        status="closed",
        assigned_specialist_id=people[3].id,
        assigned_at=now - timedelta(days=4),
    )
    await factory.make_case(org.id, status="answered", assigned_specialist_id=people[3].id)
    case = await factory.make_case(org.id, languages=["es"])
    async with sessionmaker()() as s:
        case_row = await s.get(Case, case.id)
        ranking = await rank(s, case_row, now=now)
    assert len(ranking.candidates) == 4
    for c in ranking.candidates:
        assert abs(c.score - c.sql_score) < 1e-9, (c.parts, c.sql_score)
    scores = [c.score for c in ranking.candidates]
    assert scores == sorted(scores, reverse=True)


async def test_who_may_see_candidates(client, factory):
    org = await factory.make_org()
    case = await factory.make_case(org.id)
    sp = await make_specialist(factory)
    await factory.make_offer(case.id, sp.id)
    interp = await factory.make_user(Role.interpreter)
    await factory.add_participant(case.id, interp.id)
    # They can see the case, but the ranking is for coordinators and the facility.
    assert (await _get(client, factory, sp, case.id)).status_code == 403
    assert (await _get(client, factory, interp, case.id)).status_code == 403
    assert (
        await _get(client, factory, await factory.make_user(Role.specialist), case.id)
    ).status_code == 404


async def test_the_shortlist_gives_exactly_the_full_ranking(factory, monkeypatch):
    """With a shortlist of one, ranking must grow it until the bound proves the top three:
    the answer is the same as scoring everybody."""
    from zoneinfo import ZoneInfo

    from app.matching import ranking as ranking_module

    org, elsewhere = await factory.make_org(), await factory.make_org()
    now = utcnow()
    local = now.astimezone(ZoneInfo("Asia/Tokyo"))
    this_hour = [
        {
            "weekday": local.weekday(),
            "start": f"{local.hour:02d}:00",
            "end": "24:00" if local.hour == 23 else f"{local.hour + 1:02d}:00",
        }
    ]
    later_today = [{"weekday": (local.weekday() + 1) % 7, "start": "00:00", "end": "01:00"}]
    people = []
    for i in range(12):
        sp = await make_specialist(
            factory,
            languages=["es"] if i % 3 else ["en"],
            timezone="Asia/Tokyo",
            availability=this_hour if i % 2 else later_today,
            max_active_cases=2 + i % 3,
        )
        people.append(sp)
        if i % 4 == 0:
            await factory.make_case(elsewhere.id, assigned_specialist_id=sp.id)
        if i % 5 == 0:
            await factory.make_case(org.id, status="closed", assigned_specialist_id=sp.id)
    case = await factory.make_case(org.id, languages=["es"])
    async with sessionmaker()() as s:
        case_row = await s.get(Case, case.id)
        everyone = await rank(s, case_row, limit=3, only_ids=[p.id for p in people], now=now)
        monkeypatch.setattr(ranking_module, "SHORTLIST_MIN", 1)
        monkeypatch.setattr(ranking_module, "SHORTLIST_PER_RESULT", 0)
        shortlisted = await rank(s, case_row, limit=3, now=now)
    assert [c.specialist_id for c in shortlisted.candidates] == [
        c.specialist_id for c in everyone.candidates
    ]
    assert [c.score for c in shortlisted.candidates] == [c.score for c in everyone.candidates]
