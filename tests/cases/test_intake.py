"""POST /cases: who may submit, every contract field, and bad input leaving nothing behind."""

from datetime import datetime, timedelta

import pytest

from app.audit.models import AuditEntry
from app.cases.models import Case
from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.cases.support import API, case_body, count, rows


@pytest.fixture
async def facility(factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    return org, clinician


async def test_clinician_submits_a_case(client, factory, facility):
    org, clinician = facility
    before = utcnow()
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(clinician))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"{API}/cases/{body['id']}"
    assert r.headers["etag"] == '"1"'
    assert body["status"] == "submitted"
    assert body["view"] == "full"
    assert body["organization_id"] == org.id
    assert body["submitted_by_id"] == clinician.id
    assert body["patient"] == {"reference": "MRN-004211", "age_years": 34.0, "sex": "female"}
    assert body["consent"] == {"obtained": True, "method": "verbal"}
    assert body["languages"] == ["es"] and body["interpreter_needed"] is False
    assert body["follow_up_of"] is None
    respond_by = datetime.fromisoformat(body["respond_by"])
    assert before + timedelta(hours=72) <= respond_by <= utcnow() + timedelta(hours=72)
    for k in ("id", "created_at", "updated_at"):
        assert body[k]

    # The event and the audit row were written with the case.
    events = await rows(OutboxEvent.__table__.select().where(OutboxEvent.resource_id == body["id"]))
    assert [e.type for e in events] == ["case.submitted"]
    assert events[0].organization_id == org.id
    assert events[0].payload["urgency"] == "routine"
    assert (
        await count(
            AuditEntry,
            AuditEntry.action == "case.create",
            AuditEntry.resource_id == body["id"],
            AuditEntry.actor_id == clinician.id,
        )
        == 1
    )

    # And it reads back the same.
    got = await client.get(f"{API}/cases/{body['id']}", headers=factory.headers(clinician))
    assert got.status_code == 200
    assert got.json() == body
    assert got.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    "urgency,minutes", [("emergency", 60), ("urgent", 24 * 60), ("routine", 72 * 60)]
)
async def test_respond_by_follows_urgency(client, factory, facility, urgency, minutes):
    _, clinician = facility
    before = utcnow()
    r = await client.post(
        f"{API}/cases", json=case_body(urgency=urgency), headers=factory.headers(clinician)
    )
    assert r.status_code == 201
    respond_by = datetime.fromisoformat(r.json()["respond_by"])
    assert before + timedelta(minutes=minutes) <= respond_by
    assert respond_by <= utcnow() + timedelta(minutes=minutes)


async def test_respond_by_is_configurable(client, factory, facility, monkeypatch):
    from app.core.config import get_settings

    _, clinician = facility
    monkeypatch.setitem(get_settings().respond_by_minutes, "emergency", 15)
    before = utcnow()
    r = await client.post(
        f"{API}/cases", json=case_body(urgency="emergency"), headers=factory.headers(clinician)
    )
    respond_by = datetime.fromisoformat(r.json()["respond_by"])
    assert before + timedelta(minutes=15) <= respond_by <= before + timedelta(minutes=16)


async def test_api_client_submits_for_its_facility(client, factory, facility):
    org, _ = facility
    app_client = await factory.make_client(org.id, ["cases:read", "cases:write"])
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(app_client))
    assert r.status_code == 201, r.text
    assert r.json()["organization_id"] == org.id
    assert r.json()["submitted_by_client_id"] == app_client.id
    assert r.json()["submitted_by_id"] is None


async def test_api_client_without_write_scope_is_refused(client, factory, facility):
    org, _ = facility
    reader = await factory.make_client(org.id, ["cases:read"])
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(reader))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await count(Case) == 0


@pytest.mark.parametrize("role", [Role.coordinator, Role.admin])
async def test_staff_submit_on_behalf_of_a_facility(client, factory, facility, role):
    org, _ = facility
    staff = await factory.make_user(role)
    r = await client.post(
        f"{API}/cases", json=case_body(organization_id=org.id), headers=factory.headers(staff)
    )
    assert r.status_code == 201, r.text
    assert r.json()["organization_id"] == org.id

    missing = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(staff))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "/organization_id"
    unknown = await client.post(
        f"{API}/cases", json=case_body(organization_id="org_nope"), headers=factory.headers(staff)
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/organization_id"
    assert await count(Case) == 1


async def test_clinician_cannot_submit_for_another_facility(client, factory, facility):
    _, clinician = facility
    other = await factory.make_org()
    r = await client.post(
        f"{API}/cases", json=case_body(organization_id=other.id), headers=factory.headers(clinician)
    )
    assert r.status_code == 403
    same = await client.post(
        f"{API}/cases",
        json=case_body(organization_id=clinician.organization_id),
        headers=factory.headers(clinician),
    )
    assert same.status_code == 201


@pytest.mark.parametrize("role", [Role.specialist, Role.interpreter])
async def test_specialists_and_interpreters_do_not_submit(client, factory, role):
    user = await factory.make_user(role)
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(user))
    assert r.status_code == 403
    assert await count(Case) == 0


async def test_anonymous_is_401(client):
    r = await client.post(f"{API}/cases", json=case_body())
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def _patient(**kw):
    p = {"reference": "MRN-1", "age_years": 30, "sex": "male"}
    p.update(kw)
    return p


BAD = [
    ("unknown specialty", {"specialty": "astrology"}, "/specialty"),
    ("specialty in the wrong case", {"specialty": "Dermatology"}, "/specialty"),
    ("empty question", {"question": ""}, "/question"),
    ("blank question", {"question": "   \n  "}, "/question"),
    ("over-long question", {"question": "x" * 4001}, "/question"),
    ("over-long summary", {"summary": "x" * 20001}, "/summary"),
    ("negative age", {"patient": _patient(age_years=-1)}, "/patient/age_years"),
    ("absurd age", {"patient": _patient(age_years=400)}, "/patient/age_years"),
    ("no patient reference", {"patient": {"age_years": 3}}, "/patient/reference"),
    ("over-long reference", {"patient": _patient(reference="R" * 101)}, "/patient/reference"),
    ("a name smuggled in", {"patient": _patient(name="Maria Lopez")}, "/patient/name"),
    ("unknown sex code", {"patient": _patient(sex="f")}, "/patient/sex"),
    ("unknown urgency", {"urgency": "asap"}, "/urgency"),
    ("bad language tag", {"languages": ["Spanish!"]}, "/languages/0"),
    ("consent missing", {"consent": None}, "/consent"),
    (
        "consent not obtained",
        {"consent": {"obtained": False, "method": "verbal"}},
        "/consent/obtained",
    ),
    ("consent without method", {"consent": {"obtained": True}}, "/consent/method"),
    ("unknown field", {"priority": "high"}, "/priority"),
]


@pytest.mark.parametrize("what,change,pointer", BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_a_clear_problem_and_writes_nothing(
    client, factory, facility, what, change, pointer
):
    _, clinician = facility
    body = case_body(**change)
    if change.get("consent", 0) is None:
        body.pop("consent")
    r = await client.post(f"{API}/cases", json=body, headers=factory.headers(clinician))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    assert pointer in [e["pointer"] for e in problem["errors"]], problem
    assert await count(Case) == 0
    assert await count(OutboxEvent) == 0
    assert await count(AuditEntry, AuditEntry.action == "case.create") == 0


async def test_consent_refusal_has_its_own_problem_type(client, factory, facility):
    _, clinician = facility
    r = await client.post(
        f"{API}/cases",
        json=case_body(consent={"obtained": False, "method": "verbal"}),
        headers=factory.headers(clinician),
    )
    assert r.json()["type"].endswith("/consent-required")
    # A code beside the English detail, so the console says it in her language.
    assert r.json()["errors"] == [
        {"pointer": "/consent/obtained", "detail": "must be true", "code": "consent_required"}
    ]


async def test_malformed_json_is_400_and_wrong_content_type_415(client, factory, facility):
    _, clinician = facility
    h = factory.headers(clinician)
    r = await client.post(
        f"{API}/cases", content=b"{not json", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await client.post(
        f"{API}/cases",
        content=b"specialty=dermatology",
        headers={**h, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    assert await count(Case) == 0


async def test_follow_up_of_links_an_earlier_case_of_the_same_patient(client, factory, facility):
    org, clinician = facility
    earlier = await factory.make_case(org.id, patient_reference="MRN-004211", status="closed")
    r = await client.post(
        f"{API}/cases", json=case_body(follow_up_of=earlier.id), headers=factory.headers(clinician)
    )
    assert r.status_code == 201, r.text
    assert r.json()["follow_up_of"] == earlier.id


async def test_follow_up_of_another_facility_or_patient_is_refused(client, factory, facility):
    org, clinician = facility
    other = await factory.make_org()
    theirs = await factory.make_case(other.id, patient_reference="MRN-004211")
    other_patient = await factory.make_case(org.id, patient_reference="MRN-999999")
    for target, detail in (
        (theirs.id, "not a case of this facility"),
        ("case_doesnotexist", "not a case of this facility"),
        (other_patient.id, "another patient's case"),
    ):
        r = await client.post(
            f"{API}/cases", json=case_body(follow_up_of=target), headers=factory.headers(clinician)
        )
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("/invalid-follow-up")
        assert r.json()["errors"] == [{"pointer": "/follow_up_of", "detail": detail}]
    assert await count(Case) == 2
    assert await count(OutboxEvent) == 0


async def test_idempotent_retry_creates_one_case(client, factory, facility):
    _, clinician = facility
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-1"}
    first = await client.post(f"{API}/cases", json=case_body(), headers=h)
    again = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert await count(Case) == 1
    assert await count(OutboxEvent, OutboxEvent.type == "case.submitted") == 1
    other = await client.post(
        f"{API}/cases", json=case_body(question="Another question?"), headers=h
    )
    assert other.status_code == 422


async def test_a_rolled_back_intake_leaves_no_case_and_no_event(
    client, factory, facility, monkeypatch
):
    """The event is in the request's transaction: a failure after it was written undoes it."""
    from app.cases import service
    from app.core.errors import Conflict

    _, clinician = facility

    async def failing_audit(*a, **kw):
        raise Conflict("the audit log refused the entry")

    monkeypatch.setattr(service.audit, "append", failing_audit)
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(clinician))
    assert r.status_code == 409
    assert await count(Case) == 0
    assert await count(OutboxEvent) == 0


async def test_concurrent_duplicate_intake_in_flight_is_409(client, factory, facility, monkeypatch):
    """The contract's rule on intake too: a duplicate still in flight is 409, and
    once the first has committed the same request is a replay."""
    import asyncio

    from app.cases import service

    _, clinician = facility
    entered, release = asyncio.Event(), asyncio.Event()
    real_create = service.create_case

    async def held_create(*args, **kw):
        entered.set()
        await release.wait()  # the first request is inside its transaction, uncommitted
        return await real_create(*args, **kw)

    monkeypatch.setattr(service, "create_case", held_create)
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-in-flight"}
    first = asyncio.create_task(client.post(f"{API}/cases", json=case_body(), headers=h))
    await asyncio.wait_for(entered.wait(), 10)
    dup = await asyncio.wait_for(client.post(f"{API}/cases", json=case_body(), headers=h), 10)
    assert dup.status_code == 409, dup.text
    assert dup.json()["type"].endswith("/idempotency-in-flight")
    release.set()
    r1 = await asyncio.wait_for(first, 10)
    assert r1.status_code == 201, r1.text
    again = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert again.status_code == 201 and again.json() == r1.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await count(Case) == 1


async def test_a_failing_last_write_undoes_the_whole_intake(client, factory, facility, monkeypatch):
    """Intake's writes go out on the fast lane (app.core.queries), inside the request's
    one transaction: the case, the event and the audit row succeed or fail as one, and a
    constraint the driver itself reports is a 409 problem, not a crash."""
    from app.cases import service
    from app.core.queries import Statement, queries

    _, clinician = facility
    broken = Statement(
        "INSERT INTO audit_entry (at, actor_kind, action, resource_type, outcome) "
        "VALUES (NULL, 'user', 'x', 'x', 'x')"
    )  # at is NOT NULL

    async def broken_append(session, *a, **kw):
        await (await queries(session)).execute(broken)

    monkeypatch.setattr(service.audit, "append", broken_append)
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-broken"}
    r = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "NULL" not in r.text and "audit_entry" not in r.text
    assert await count(Case) == 0
    assert await count(OutboxEvent) == 0
    monkeypatch.undo()
    # The key was not spent on the failure: the retry does the work once.
    retry = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert retry.status_code == 201, retry.text
    assert await count(Case) == 1


async def test_a_body_that_is_not_utf8_is_400_and_writes_nothing(client, factory, facility):
    _, clinician = facility
    h = {**factory.headers(clinician), "Content-Type": "application/json"}
    r = await client.post(f"{API}/cases", content=b'{"question": "\xff\xfe"}', headers=h)
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/malformed-body")
    assert await count(Case) == 0


# Advisory locks held in this test's database (other test workers use other databases).
ADVISORY_LOCKS_HERE = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def test_json_nested_past_any_sense_is_400_and_writes_nothing(client, factory, facility):
    _, clinician = facility
    h = {**factory.headers(clinician), "Content-Type": "application/json"}
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000):
        r = await client.post(f"{API}/cases", content=body, headers=h)
        assert r.status_code == 400, r.text
        assert r.json()["type"].endswith("/malformed-body")
    assert await count(Case) == 0


@pytest.mark.parametrize("refusal", ["consent", "invalid", "session-ended"])
async def test_a_refused_intake_does_not_hold_its_key(client, factory, facility, db, refusal):
    """A request that fails after taking its Idempotency-Key lets go of it: nothing stays
    in flight in this process, and on PostgreSQL no advisory lock stays on a pooled
    connection (a session-level lock would outlive the request there). The lock is taken
    in the token check's round trip, so a token refused there must release it too."""
    from sqlalchemy import text, update

    from app.auth.models import User
    from app.core import idempotency

    _, clinician = facility
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-refused"}
    body = case_body()
    if refusal == "consent":
        body = case_body(consent={"obtained": False, "method": "verbal"})
    elif refusal == "invalid":
        body = case_body(question="")
    else:
        await db.execute(update(User).where(User.id == clinician.id).values(active=False))
        await db.commit()
    refused = await client.post(f"{API}/cases", json=body, headers=h)
    assert refused.status_code == (401 if refusal == "session-ended" else 422), refused.text
    assert not idempotency._in_flight
    if db.get_bind().dialect.name == "postgresql":
        held = await db.scalar(text(ADVISORY_LOCKS_HERE))
        assert held == 0
    if refusal == "session-ended":
        await db.execute(update(User).where(User.id == clinician.id).values(active=True))
        await db.commit()
    ok = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert ok.status_code == 201, ok.text
    assert await count(Case) == 1


async def test_a_failure_right_after_the_key_lookup_leaves_no_lock(
    client, factory, facility, db, monkeypatch
):
    """Should the request fail after the key's lock was taken (a driver error, a timeout),
    the lock ends with the transaction, and the key is free for the retry."""
    from sqlalchemy import text

    from app.core import idempotency
    from app.core.queries import Statement

    _, clinician = facility
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-broken"}
    with monkeypatch.context() as m:
        m.setattr(idempotency, "_FIND", Statement("SELECT no_such_column FROM idempotency_record"))
        failed = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert failed.status_code == 500
    if db.get_bind().dialect.name == "postgresql":
        held = await db.scalar(text(ADVISORY_LOCKS_HERE))
        assert held == 0
    ok = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert ok.status_code == 201, ok.text
    assert await count(Case) == 1


async def test_an_intake_cancelled_mid_statement_leaves_nothing_behind(
    client, factory, facility, db
):
    """PostgreSQL: a request cancelled while its writing statement waits (a client gone,
    a timeout) leaves no advisory lock on a pooled connection and commits nothing, and the
    retry with the same key goes through. (the unit of work closes such a connection; the
    pool's own reset would also fail and close it, so this test does not tell the two
    apart.)"""
    import asyncio

    from sqlalchemy import text

    from app.core import idempotency
    from app.core.db import get_engine

    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite runs each statement inline: nothing is ever half-answered")
    _, clinician = facility
    h = {**factory.headers(clinician), "Idempotency-Key": "intake-cancelled"}
    # Another transaction holds the same key's row, uncommitted: the request's lookup does
    # not see it, and its writing statement waits on the key's unique index.
    blocker = await get_engine().connect()
    await blocker.begin()
    await blocker.execute(
        text(
            "INSERT INTO idempotency_record (principal_id, key, fingerprint, status_code, "
            "body, headers, created_at) VALUES (:p, 'intake-cancelled', 'x', 201, '', '{}', now())"
        ),
        {"p": clinician.id},
    )
    request = asyncio.create_task(client.post(f"{API}/cases", json=case_body(), headers=h))
    try:
        for _ in range(100):
            waiting = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
            # pg_stat_activity is read once per transaction: end it, or every poll sees
            # the first one's snapshot (this test was flaky for that).
            await db.rollback()
            if waiting:
                break
            await asyncio.sleep(0.05)
        assert waiting == 1, "the request never reached its writing statement"
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    finally:
        await blocker.rollback()
        await blocker.close()
    assert not idempotency._in_flight
    for _ in range(100):  # the closed connection's backend exits, releasing its lock
        held = await db.scalar(text(ADVISORY_LOCKS_HERE))
        if not held:
            break
        await asyncio.sleep(0.05)
    assert held == 0
    assert await count(Case) == 0
    retry = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert retry.status_code == 201, retry.text
    assert await count(Case) == 1


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"interpreter_needed": "yes"}, "/interpreter_needed", "bool_type"),
        ({"interpreter_needed": "true"}, "/interpreter_needed", "bool_type"),
        ({"interpreter_needed": 1}, "/interpreter_needed", "bool_type"),
        ({"patient": {"reference": "P-1", "age_years": "34"}}, "/patient/age_years", "number_type"),
        ({"patient": {"reference": "P-1", "age_years": True}}, "/patient/age_years", "number_type"),
        ({"consent": {"obtained": "true", "method": "verbal"}}, "/consent/obtained", "bool_type"),
    ],
)
async def test_a_true_false_or_number_of_another_json_type_is_refused(
    client, factory, facility, change, pointer, code
):
    """ "yes" for true or "34" for a number was read as a guess and stored (201): a partner
    app's bug passed unseen. Refused, naming the field; nothing is stored."""
    org, clinician = facility
    r = await client.post(
        f"{API}/cases", json={**case_body(), **change}, headers=factory.headers(clinician)
    )
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [(pointer, code)]
    assert await count(Case) == 0
    ok = {**case_body(), "interpreter_needed": True}
    ok["patient"] = {**ok["patient"], "age_years": 0.5}
    r = await client.post(f"{API}/cases", json=ok, headers=factory.headers(clinician))
    assert r.status_code == 201, r.text
