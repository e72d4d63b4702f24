"""Who sees what: the full case, its summary, or nothing (404), in reads and lists alike."""

import pytest

from app.audit.models import AuditEntry
from app.core.principal import Role
from tests.cases.support import API, count


@pytest.fixture
async def world(factory):
    a = await factory.make_org(name="Facility A")
    b = await factory.make_org(name="Facility B")
    w = {
        "org_a": a,
        "org_b": b,
        "admin": await factory.make_user(Role.admin),
        "coordinator": await factory.make_user(Role.coordinator),
        "clinician_a": await factory.make_user(Role.clinician, organization_id=a.id),
        "clinician_b": await factory.make_user(Role.clinician, organization_id=b.id),
        "specialist": await factory.make_user(Role.specialist),
        "other_specialist": await factory.make_user(Role.specialist),
        "interpreter": await factory.make_user(Role.interpreter),
        "client_a": await factory.make_client(a.id, ["cases:read", "cases:write"]),
        "client_a_noread": await factory.make_client(a.id, ["rounds:read"]),
        "client_b": await factory.make_client(b.id, ["cases:read", "cases:write"]),
    }
    return w


async def _get(client, factory, who, case_id):
    return await client.get(f"{API}/cases/{case_id}", headers=factory.headers(who))


async def test_facility_sees_its_case_in_full_others_get_404(client, factory, world):
    case = await factory.make_case(world["org_a"].id)
    for who in ("admin", "coordinator", "clinician_a", "client_a"):
        r = await _get(client, factory, world[who], case.id)
        assert r.status_code == 200, who
        assert r.json()["view"] == "full"
        assert r.json()["patient"]["reference"] == case.patient_reference
    for who in ("clinician_b", "client_b", "specialist", "interpreter"):
        r = await _get(client, factory, world[who], case.id)
        assert r.status_code == 404, who
        assert r.json()["type"].endswith("/not-found")
    # An API client without cases:read is refused for its token, whichever case it names.
    for case_id in (case.id, "case_doesnotexist"):
        r = await _get(client, factory, world["client_a_noread"], case_id)
        assert r.status_code == 403
        assert r.json()["type"].endswith("/insufficient-scope")
    # A case that does not exist answers exactly like one you may not see.
    missing = await _get(client, factory, world["clinician_b"], "case_doesnotexist")
    hidden = await _get(client, factory, world["clinician_b"], case.id)
    assert missing.json()["detail"] == hidden.json()["detail"]


async def test_specialist_with_a_pending_offer_sees_the_summary_only(client, factory, world):
    case = await factory.make_case(world["org_a"].id, status="offered", follow_up_of_id=None)
    await factory.make_offer(case.id, world["specialist"].id)
    r = await _get(client, factory, world["specialist"], case.id)
    assert r.status_code == 200
    body = r.json()
    assert body["view"] == "summary"
    assert "reference" not in body["patient"]
    assert body["patient"] == {"age_years": 34.0, "sex": "female"}
    for hidden in ("follow_up_of", "consent", "submitted_by_id", "outcome", "attachments"):
        assert hidden not in body
    assert case.patient_reference not in r.text
    assert body["question"] == case.question and body["specialty"] == "dermatology"
    assert r.headers["etag"] == '"1-summary"'
    # Attachments and participants are for full viewers only.
    for path in ("attachments", "participants"):
        assert (
            await client.get(
                f"{API}/cases/{case.id}/{path}", headers=factory.headers(world["specialist"])
            )
        ).status_code == 404
    # The other specialist, with no offer, sees nothing.
    assert (await _get(client, factory, world["other_specialist"], case.id)).status_code == 404


@pytest.mark.parametrize("status", ["declined", "expired", "withdrawn"])
async def test_an_offer_no_longer_pending_shows_nothing(client, factory, world, status):
    case = await factory.make_case(world["org_a"].id, status="offered")
    await factory.make_offer(case.id, world["specialist"].id, status=status)
    assert (await _get(client, factory, world["specialist"], case.id)).status_code == 404


async def test_assigned_specialist_sees_the_whole_case(client, factory, world):
    case = await factory.make_case(world["org_a"].id, assigned_specialist_id=world["specialist"].id)
    await factory.make_offer(case.id, world["specialist"].id, status="accepted")
    r = await _get(client, factory, world["specialist"], case.id)
    assert r.status_code == 200
    assert r.json()["view"] == "full"
    assert r.json()["patient"]["reference"] == case.patient_reference
    assert (await _get(client, factory, world["other_specialist"], case.id)).status_code == 404


@pytest.mark.parametrize("role", ["interpreter", "other_specialist"])
async def test_participants_see_the_case_they_were_added_to_and_no_other(
    client, factory, world, role
):
    case = await factory.make_case(world["org_a"].id)
    other = await factory.make_case(world["org_a"].id)
    await factory.add_participant(
        case.id, world[role].id, "interpreter" if role == "interpreter" else "specialist"
    )
    r = await _get(client, factory, world[role], case.id)
    assert r.status_code == 200 and r.json()["view"] == "full"
    assert (await _get(client, factory, world[role], other.id)).status_code == 404


async def test_denied_reads_are_audited(client, factory, world):
    from app.audit.service import drain_denied

    case = await factory.make_case(world["org_a"].id)
    await _get(client, factory, world["clinician_b"], case.id)
    await drain_denied()
    assert (
        await count(
            AuditEntry,
            AuditEntry.outcome == "denied",
            AuditEntry.resource_id == case.id,
            AuditEntry.actor_id == world["clinician_b"].id,
        )
        == 1
    )
    await _get(client, factory, world["clinician_a"], case.id)
    assert (
        await count(
            AuditEntry,
            AuditEntry.action == "case.read",
            AuditEntry.resource_id == case.id,
            AuditEntry.actor_id == world["clinician_a"].id,
        )
        == 1
    )


async def _list_all(client, factory, who, **params):
    seen, cursor = [], None
    while True:
        q = {"limit": 2, **params}
        if cursor:
            q["cursor"] = cursor
        r = await client.get(f"{API}/cases", params=q, headers=factory.headers(who))
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return seen


async def test_the_list_is_never_wider_than_the_read(client, factory, world):
    a, b = world["org_a"].id, world["org_b"].id
    spec, other_spec = world["specialist"], world["other_specialist"]
    cases = [
        await factory.make_case(a),
        await factory.make_case(a, status="offered"),
        await factory.make_case(a, assigned_specialist_id=spec.id),
        await factory.make_case(b, status="offered"),
        await factory.make_case(b, specialty="cardiology", urgency="emergency"),
        await factory.make_case(b, status="cancelled"),
    ]
    await factory.make_offer(cases[1].id, spec.id)
    await factory.make_offer(cases[3].id, spec.id)
    await factory.make_offer(cases[3].id, other_spec.id, status="declined")
    await factory.add_participant(cases[4].id, world["interpreter"].id)
    await factory.add_participant(cases[5].id, other_spec.id, "specialist")

    expected_counts = {
        "admin": 6,
        "coordinator": 6,
        "clinician_a": 3,
        "clinician_b": 3,
        "specialist": 3,
        "other_specialist": 1,
        "interpreter": 1,
        "client_a": 3,
        "client_b": 3,
    }
    for who, n in expected_counts.items():
        listed = await _list_all(client, factory, world[who])
        assert len(listed) == n, who
        ids = [i["id"] for i in listed]
        assert ids == sorted(ids, reverse=True), "newest first, stable"
        for item in listed:
            read = await _get(client, factory, world[who], item["id"])
            assert read.status_code == 200
            assert read.json() == item, who
        for c in cases:
            if c.id not in ids:
                assert (await _get(client, factory, world[who], c.id)).status_code == 404
    spec_views = {i["id"]: i["view"] for i in await _list_all(client, factory, spec)}
    assert spec_views == {cases[1].id: "summary", cases[2].id: "full", cases[3].id: "summary"}


async def test_list_filters(client, factory, world):
    a, b = world["org_a"].id, world["org_b"].id
    c1 = await factory.make_case(a, specialty="cardiology", urgency="urgent")
    c2 = await factory.make_case(a, status="cancelled")
    c3 = await factory.make_case(b, urgency="emergency")
    coord = world["coordinator"]

    async def ids(**params):
        return {i["id"] for i in await _list_all(client, factory, coord, **params)}

    assert await ids() == {c1.id, c2.id, c3.id}
    assert await ids(organization_id=a) == {c1.id, c2.id}
    assert await ids(status="cancelled") == {c2.id}
    assert await ids(specialty="cardiology") == {c1.id}
    assert await ids(urgency="emergency") == {c3.id}
    assert await ids(organization_id=a, urgency="emergency") == set()
    # A clinician asking for another facility's cases gets none, not theirs.
    assert {
        i["id"] for i in await _list_all(client, factory, world["clinician_a"], organization_id=b)
    } == set()
    bad = await client.get(
        f"{API}/cases", params={"status": "lost"}, headers=factory.headers(coord)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#query/status"


async def test_list_pagination_and_limits(client, factory, world):
    a = world["org_a"].id
    made = [await factory.make_case(a) for _ in range(5)]
    h = factory.headers(world["clinician_a"])
    r = await client.get(f"{API}/cases", params={"limit": 3}, headers=h)
    page1 = r.json()
    assert [i["id"] for i in page1["items"]] == [c.id for c in reversed(made)][:3]
    r2 = await client.get(
        f"{API}/cases", params={"limit": 3, "cursor": page1["next_cursor"]}, headers=h
    )
    assert [i["id"] for i in r2.json()["items"]] == [made[1].id, made[0].id]
    assert r2.json()["next_cursor"] is None
    assert (await client.get(f"{API}/cases", params={"limit": 201}, headers=h)).status_code == 422
    # A different last digit of the signature (a fixed "00" left a cursor ending in 00 as
    # it was, one run in 256).
    cursor = page1["next_cursor"]
    tampered = cursor[:-1] + ("1" if cursor[-1] == "0" else "0")
    assert (
        await client.get(f"{API}/cases", params={"cursor": tampered}, headers=h)
    ).status_code == 400


async def test_a_list_is_audited_with_the_ids_it_showed(client, factory, world):
    """One entry per page listed, naming the cases shown in order (on PostgreSQL written by
    the list's own statement); an empty page writes none."""
    from sqlalchemy import select

    from app.core.db import sessionmaker

    a = world["org_a"].id
    made = [await factory.make_case(a) for _ in range(3)]
    who = world["clinician_a"]
    r = await client.get(f"{API}/cases", params={"limit": 2}, headers=factory.headers(who))
    assert r.status_code == 200
    shown = [i["id"] for i in r.json()["items"]]
    assert shown == [made[2].id, made[1].id]
    async with sessionmaker()() as s:
        rows = (
            (
                await s.execute(
                    select(AuditEntry).where(
                        AuditEntry.action == "case.list", AuditEntry.actor_id == who.id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(rows) == 1
    entry = rows[0]
    assert entry.detail == ",".join(shown)
    assert (entry.actor_kind, entry.resource_type, entry.outcome) == ("user", "case", "allowed")
    assert entry.resource_id is None and entry.at is not None
    # A filter that matches nothing lists nothing and logs nothing.
    r = await client.get(f"{API}/cases", params={"status": "closed"}, headers=factory.headers(who))
    assert r.status_code == 200 and r.json()["items"] == []
    assert await count(AuditEntry, AuditEntry.action == "case.list") == 1


async def test_client_without_read_scope_cannot_list(client, factory, world):
    await factory.make_case(world["org_a"].id)
    r = await client.get(f"{API}/cases", headers=factory.headers(world["client_a_noread"]))
    assert r.status_code == 403


async def test_anonymous_list_is_401(client):
    assert (await client.get(f"{API}/cases")).status_code == 401


async def test_openapi_documents_both_views(app):
    schema = app.openapi()
    one = schema["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]
    ref = one["content"]["application/json"]["schema"]
    text = str(ref)
    assert "CaseRead" in text and "CaseSummary" in text
    comps = schema["components"]["schemas"]
    assert "reference" not in comps["PatientSummary"]["properties"]
    assert "reference" in comps["PatientRead"]["properties"]


async def test_fast_serialised_answers_match_their_documented_schema(client, factory, world):
    """Reads and lists skip response validation for speed: prove the shapes still match."""
    import json

    from pydantic import TypeAdapter

    from app.cases.schemas import CaseView
    from app.core.pagination import Page

    case = await factory.make_case(world["org_a"].id, status="offered")
    await factory.make_offer(case.id, world["specialist"].id)
    one, page = TypeAdapter(CaseView), TypeAdapter(Page[CaseView])
    for who, view in (("clinician_a", "full"), ("specialist", "summary")):
        h = factory.headers(world[who])
        r = await client.get(f"{API}/cases/{case.id}", headers=h)
        assert r.headers["content-type"] == "application/json"
        model = one.validate_json(r.content)
        assert model.view == view
        assert json.loads(one.dump_json(model)) == r.json()
        listed = await client.get(f"{API}/cases", headers=h)
        assert json.loads(page.dump_json(page.validate_json(listed.content))) == listed.json()
    created = await client.post(
        f"{API}/cases",
        json={
            "specialty": "dermatology",
            "urgency": "urgent",
            "question": "Q?",
            "patient": {"reference": "R-1"},
            "consent": {"obtained": True, "method": "written"},
        },
        headers=factory.headers(world["clinician_a"]),
    )
    assert created.status_code == 201
    assert json.loads(one.dump_json(one.validate_json(created.content))) == created.json()


@pytest.mark.parametrize("micro", [0, 120000, 999999, 1])
async def test_list_timestamps_read_as_the_case_does(client, factory, world, micro):
    """The list renders stored timestamps without building datetimes (in SQL on SQLite):
    whole seconds, trailing zeros and set or empty times come out as a read gives them."""
    from datetime import UTC, datetime

    at = datetime(2026, 3, 1, 8, 30, 15, micro, tzinfo=UTC)
    case = await factory.make_case(
        world["org_a"].id,
        created_at=at,
        respond_by=at,
        assigned_specialist_id=world["specialist"].id,
        assigned_at=at,
        status="assigned",
    )
    h = factory.headers(world["clinician_a"])
    item = next(i for i in (await client.get(f"{API}/cases", headers=h)).json()["items"])
    read = (await client.get(f"{API}/cases/{case.id}", headers=h)).json()
    assert item == read
    expected = at.isoformat().replace("+00:00", "Z")
    assert item["created_at"] == item["assigned_at"] == expected and item["closed_at"] is None


@pytest.mark.parametrize("age", [0.25, 1 / 3, 2 / 12, 34.0, 1e-7])
async def test_list_json_written_by_the_database_equals_the_read(client, factory, world, age):
    """The list's items are JSON the database writes from the same shape as a read: quotes,
    newlines, non-Latin text, fractional ages, empty fields and booleans survive."""
    case = await factory.make_case(
        world["org_a"].id,
        question='Mwanamke, "O\'Brien"?\nRash \u2014 \u0623\u0644\u0645 \U0001f9ea \\ end',
        summary="",
        patient_age_years=age,
        patient_sex=None,
        languages=["sw", "ar"],
        interpreter_needed=True,
    )
    h = factory.headers(world["clinician_a"])
    [item] = [i for i in (await client.get(f"{API}/cases", headers=h)).json()["items"]]
    assert item == (await client.get(f"{API}/cases/{case.id}", headers=h)).json()
    assert item["interpreter_needed"] is True and item["patient"]["age_years"] == age
    assert item["languages"] == ["sw", "ar"] and item["patient"]["sex"] is None
