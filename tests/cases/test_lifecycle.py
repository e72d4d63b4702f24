"""The state machine, and cancel/close through the API: 409 for anything not allowed."""

import itertools

import pytest
from sqlalchemy import select

from app.cases import lifecycle
from app.cases.models import Case, CaseStatus
from app.core.db import sessionmaker
from app.core.errors import InvalidTransition
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.cases.support import API, count, rows

S = CaseStatus
LEGAL = {
    (S.submitted, S.offered),
    (S.submitted, S.assigned),
    (S.submitted, S.unmatched),
    (S.submitted, S.cancelled),
    (S.offered, S.offered),
    (S.offered, S.assigned),
    (S.offered, S.unmatched),
    (S.offered, S.cancelled),
    (S.unmatched, S.offered),
    (S.unmatched, S.assigned),
    (S.unmatched, S.cancelled),
    (S.assigned, S.answered),
    (S.assigned, S.cancelled),
    (S.answered, S.closed),
}
# Allowed only for a reason: an assigned case goes back to be matched only when its
# specialist was deactivated before answering (tests/matching/test_specialist_deactivated.py).
ONLY_BECAUSE = {(S.assigned, S.unmatched): lifecycle.SPECIALIST_DEACTIVATED}
PAIRS = list(itertools.product(list(S), [s for s in S if s != S.submitted]))


def test_the_table_is_exactly_the_contract():
    allowed = {(a, b) for a, bs in lifecycle.TRANSITIONS.items() for b in bs}
    assert allowed == LEGAL | set(ONLY_BECAUSE)
    assert set(lifecycle.ONLY_BECAUSE) == set(ONLY_BECAUSE)
    assert all(not lifecycle.can_transition(s, S.submitted) for s in S)
    for (a, b), reason in ONLY_BECAUSE.items():
        assert not lifecycle.can_transition(a, b)
        assert not lifecycle.can_transition(a, b, "the coordinator would rather")
        assert lifecycle.can_transition(a, b, reason)


async def test_an_assigned_case_becomes_unmatched_only_for_its_reason(factory):
    org = await factory.make_org()
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=spec.id)
    async with sessionmaker()() as s:
        loaded = await s.get(Case, case.id)
        for because in (None, "reassigned by hand"):
            with pytest.raises(InvalidTransition):
                await lifecycle.transition(s, loaded, S.unmatched, "usr_test", because=because)
        assert loaded.status == S.assigned
        reason = lifecycle.SPECIALIST_DEACTIVATED
        await lifecycle.transition(s, loaded, S.unmatched, "usr_test", because=reason)
        await s.commit()
    events = await rows(
        select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.resource_id == case.id)
    )
    assert [(e.type, e.payload["status_reason"], e.payload["previous_status"]) for e in events] == [
        ("case.unmatched", lifecycle.SPECIALIST_DEACTIVATED, "assigned")
    ]


@pytest.mark.parametrize("current,to", PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
async def test_every_transition(factory, current, to):
    org = await factory.make_org()
    case = await factory.make_case(org.id, status=current.value)
    async with sessionmaker()() as s:
        loaded = await s.get(Case, case.id)
        if (current, to) in LEGAL:
            await lifecycle.transition(s, loaded, to, actor_id="usr_test")
            await s.commit()
        else:
            with pytest.raises(InvalidTransition) as err:
                await lifecycle.transition(s, loaded, to, actor_id="usr_test")
            assert err.value.status == 409
            await s.rollback()
    events = await rows(
        select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.resource_id == case.id)
    )
    async with sessionmaker()() as s:
        after = await s.get(Case, case.id)
    if (current, to) in LEGAL:
        assert after.status == to.value and after.version == 2
        assert [e.type for e in events] == [lifecycle.EVENT_FOR[to]]
        assert events[0].payload["previous_status"] == current.value
    else:
        assert after.status == current.value and after.version == 1
        assert events == []


@pytest.fixture
async def people(factory):
    org = await factory.make_org()
    return {
        "org": org,
        "clinician": await factory.make_user(Role.clinician, organization_id=org.id),
        "coordinator": await factory.make_user(Role.coordinator),
        "specialist": await factory.make_user(Role.specialist),
    }


CANCELLABLE = {S.submitted, S.offered, S.unmatched, S.assigned}


@pytest.mark.parametrize("status", list(S))
async def test_cancel_from_each_status(client, factory, people, status):
    case = await factory.make_case(people["org"].id, status=status.value)
    r = await client.post(
        f"{API}/cases/{case.id}/cancel",
        json={"reason": "Patient referred"},
        headers=factory.headers(people["clinician"]),
    )
    n_events = await count(OutboxEvent, OutboxEvent.resource_id == case.id)
    if status in CANCELLABLE:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        assert r.json()["cancel_reason"] == "Patient referred"
        assert r.json()["cancelled_at"]
        assert r.headers["etag"] == '"2"'
        assert n_events == 1
    else:
        assert r.status_code == 409
        assert r.json()["type"].endswith("/invalid-transition")
        assert r.json()["current_status"] == status.value
        assert n_events == 0


@pytest.mark.parametrize("status", list(S))
async def test_close_from_each_status(client, factory, people, status):
    case = await factory.make_case(people["org"].id, status=status.value)
    r = await client.post(
        f"{API}/cases/{case.id}/close",
        json={"outcome": "Rash cleared with the advised treatment."},
        headers=factory.headers(people["clinician"]),
    )
    if status == S.answered:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "closed" and r.json()["closed_at"]
        assert r.json()["outcome"] == "Rash cleared with the advised treatment."
        types = [
            e.type
            for e in await rows(select(OutboxEvent.type).where(OutboxEvent.resource_id == case.id))
        ]
        assert types == ["case.closed"]
    else:
        assert r.status_code == 409
        assert await count(OutboxEvent, OutboxEvent.resource_id == case.id) == 0


async def test_close_requires_an_outcome(client, factory, people):
    case = await factory.make_case(people["org"].id, status="answered")
    h = factory.headers(people["clinician"])
    for body in ({}, {"outcome": ""}, {"outcome": "   "}, {"outcome": "x" * 4001}):
        r = await client.post(f"{API}/cases/{case.id}/close", json=body, headers=h)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["pointer"] == "/outcome"
    async with sessionmaker()() as s:
        assert (await s.get(Case, case.id)).status == "answered"


async def test_cancel_without_a_body(client, factory, people):
    case = await factory.make_case(people["org"].id)
    r = await client.post(
        f"{API}/cases/{case.id}/cancel", headers=factory.headers(people["coordinator"])
    )
    assert r.status_code == 200
    assert r.json()["cancel_reason"] is None


async def test_who_may_cancel_and_close(client, factory, people):
    spec = people["specialist"]
    offered = await factory.make_case(people["org"].id, status="offered")
    await factory.make_offer(offered.id, spec.id)
    assigned = await factory.make_case(
        people["org"].id, assigned_specialist_id=spec.id, status="answered"
    )
    h = factory.headers(spec)
    # The specialist sees both cases but may not cancel or close them.
    assert (await client.post(f"{API}/cases/{offered.id}/cancel", headers=h)).status_code == 403
    r = await client.post(f"{API}/cases/{assigned.id}/close", json={"outcome": "Better"}, headers=h)
    assert r.status_code == 403
    reader = await factory.make_client(people["org"].id, ["cases:read"])
    r = await client.post(f"{API}/cases/{offered.id}/cancel", headers=factory.headers(reader))
    assert r.status_code == 403
    r = await client.post(
        f"{API}/cases/{assigned.id}/close",
        json={"outcome": "Better"},
        headers=factory.headers(people["coordinator"]),
    )
    assert r.status_code == 200


async def test_if_match_is_honoured(client, factory, people):
    case = await factory.make_case(people["org"].id, status="answered")
    h = factory.headers(people["clinician"])
    etag = (await client.get(f"{API}/cases/{case.id}", headers=h)).headers["etag"]
    stale = await client.post(
        f"{API}/cases/{case.id}/close", json={"outcome": "Better"}, headers={**h, "If-Match": '"0"'}
    )
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/precondition-failed")
    ok = await client.post(
        f"{API}/cases/{case.id}/close", json={"outcome": "Better"}, headers={**h, "If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'


async def _reads_audited(case_id: str) -> int:
    from sqlalchemy import func, select

    from app.audit.models import AuditEntry
    from app.core.db import sessionmaker

    async with sessionmaker()() as s:
        stmt = select(func.count()).where(
            AuditEntry.resource_id == case_id, AuditEntry.action == "case.read"
        )
        return int(await s.scalar(stmt) or 0)


async def test_if_none_match_answers_304_until_the_case_changes(client, factory, people):
    case = await factory.make_case(people["org"].id, status="answered")
    h = factory.headers(people["clinician"])
    url = f"{API}/cases/{case.id}"
    etag = (await client.get(url, headers=h)).headers["etag"]
    reads = await _reads_audited(case.id)
    same = await client.get(url, headers={**h, "If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert await _reads_audited(case.id) == reads + 1  # a 304 is a read: it is audited
    # A weak copy of the same tag still matches (If-None-Match compares weakly).
    assert (await client.get(url, headers={**h, "If-None-Match": f"W/{etag}"})).status_code == 304
    closed = await client.post(f"{url}/close", json={"outcome": "Better"}, headers=h)
    assert closed.status_code == 200
    fresh = await client.get(url, headers={**h, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] == closed.headers["etag"] != etag
    # The check comes after authorisation: another facility still gets 404, not 304.
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    hidden = await client.get(url, headers={**factory.headers(other), "If-None-Match": etag})
    assert hidden.status_code == 404


async def test_a_rolled_back_cancel_leaves_no_event(client, factory, people, monkeypatch):
    from app.cases import service
    from app.core.errors import Conflict

    case = await factory.make_case(people["org"].id)

    async def failing_audit(*a, **kw):
        raise Conflict("the audit log refused the entry")

    monkeypatch.setattr(service.audit, "append", failing_audit)
    r = await client.post(
        f"{API}/cases/{case.id}/cancel", headers=factory.headers(people["clinician"])
    )
    assert r.status_code == 409
    async with sessionmaker()() as s:
        assert (await s.get(Case, case.id)).status == "submitted"
    assert await count(OutboxEvent) == 0
