"""An admin deactivates a specialist: each case she holds and has not answered goes back to
be matched (`unmatched`, as a case nobody took: on the coordinators' queue, coordinators
told), the reason recorded; the conversation, attachments and her draft note stay; her
pending offers are withdrawn; answered cases keep their signed note. Reactivating her gives
nothing back."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.models import Case
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.kinds import WEBHOOK_EVENTS
from app.events.models import INTERNAL_EVENTS, OutboxEvent
from app.notes.models import Note
from tests.matching.support import API, case_status, events, offers_of
from tests.notes.helpers import make_note
from tests.partners.helpers import caught_up
from tests.specialists.support import make_specialist

REASON = "specialist_deactivated"
USER_DEACTIVATED = "user.deactivated"  # internal: matching listens, no partner hears


async def _set_active(client, factory, admin, user, active):
    r = await client.patch(
        f"{API}/users/{user.id}", json={"active": active}, headers=factory.headers(admin)
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is active


async def _assigned_via_api(client, factory, coord, clin, org, specialist):
    """A case submitted by the clinic, offered by a coordinator, accepted by `specialist`."""
    case = await factory.make_case(org.id, submitted_by_id=clin.id)
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"specialist_ids": [specialist.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    offer = r.json()["items"][0]
    r = await client.post(f"{API}/offers/{offer['id']}/accept", headers=factory.headers(specialist))
    assert r.status_code == 200, r.text
    return case, offer


async def _case_versions() -> dict[str, tuple[str, str | None, int]]:
    async with sessionmaker()() as s:
        rows = (await s.scalars(select(Case))).all()
        return {c.id: (c.status, c.assigned_specialist_id, c.version) for c in rows}


async def test_her_assigned_case_goes_back_to_be_matched_and_another_takes_it(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    bea = await make_specialist(factory)
    case, first = await _assigned_via_api(client, factory, coord, clin, org, ana)

    # She started: a draft note; the clinic wrote in the conversation.
    r = await client.post(
        f"{API}/cases/{case.id}/notes",
        json={"kind": "consult", "assessment": "Probably contact dermatitis."},
        headers=factory.headers(ana),
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "Photo of the left arm attached.", "client_msg_id": "m-1"},
        headers=factory.headers(clin),
    )
    assert r.status_code == 201, r.text

    await _set_active(client, factory, admin, ana, False)

    row = await case_status(case.id)
    assert row.status == "unmatched"
    assert row.assigned_specialist_id is None and row.assigned_at is None
    # The event says why, and that it came from `assigned`; coordinators are told.
    [ev] = await events("case.unmatched", case.id)
    assert ev.payload["status_reason"] == REASON and ev.payload["previous_status"] == "assigned"
    assert ev.payload["specialist_id"] == ana.id and ev.payload["actor_id"] == admin.id
    [told] = await events("matching.unmatched", case.id)
    assert coord.id in told.audience and told.payload["reason"] == REASON
    r = await client.get(f"{API}/notifications", headers=factory.headers(coord))
    assert r.status_code == 200, r.text
    assert "case_unmatched" in [n["kind"] for n in r.json()["items"]]

    # On the coordinators' queue.
    r = await client.get(f"{API}/cases?status=unmatched", headers=factory.headers(coord))
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [case.id]
    assert r.json()["items"][0]["assigned_specialist_id"] is None

    # The record says why; her accepted offer stays in it.
    r = await client.get(f"{API}/cases/{case.id}/record", headers=factory.headers(coord))
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    [back] = [e for e in entries if e["type"] == "unassigned"]
    assert back["reason"] == REASON and back["specialist_id"] == ana.id
    # One entry for it: taken back says it; "nobody left to offer it to" would be untrue.
    assert "unmatched" not in [e["type"] for e in entries]
    assert ("offer_accepted", first["id"]) in [(e["type"], e.get("id")) for e in entries]

    # Audited like every change of a case, by whoever deactivated her.
    async with sessionmaker()() as s:
        audited = (
            await s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "case.unassign", AuditEntry.resource_id == case.id
                )
            )
        ).all()
    assert [(a.actor_id, REASON in (a.detail or "")) for a in audited] == [(admin.id, True)]

    # The draft stays a draft, unsigned, with its text; the conversation stays.
    r = await client.get(f"{API}/cases/{case.id}/notes", headers=factory.headers(coord))
    [note] = r.json()["items"]
    assert note["id"] == draft["id"] and note["status"] == "draft"
    assert note["signed_at"] is None and note["assessment"] == "Probably contact dermatitis."
    r = await client.get(f"{API}/cases/{case.id}/messages", headers=factory.headers(clin))
    assert [m["body"] for m in r.json()["items"]] == ["Photo of the left arm attached."]

    # The coordinator offers it again; another specialist accepts and answers it.
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"specialist_ids": [bea.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    assert r.json()["case_status"] == "offered"
    again = r.json()["items"][0]
    r = await client.post(f"{API}/offers/{again['id']}/accept", headers=factory.headers(bea))
    assert r.status_code == 200, r.text
    assert (await case_status(case.id)).assigned_specialist_id == bea.id
    r = await client.post(
        f"{API}/cases/{case.id}/notes",
        json={"kind": "consult", "assessment": "Contact dermatitis.", "recommendations": "Stop."},
        headers=factory.headers(bea),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/notes/{r.json()['id']}/sign", headers={**factory.headers(bea), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert (await case_status(case.id)).status == "answered"

    # Reactivating her gives nothing back.
    await _set_active(client, factory, admin, ana, True)
    row = await case_status(case.id)
    assert (row.status, row.assigned_specialist_id) == ("answered", bea.id)
    async with sessionmaker()() as s:
        assert (await s.get(Note, draft["id"])).status == "draft"


async def test_her_answered_case_keeps_its_signed_note(client, factory):
    org = await factory.make_org()
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    answered = await factory.make_case(org.id, assigned_specialist_id=ana.id, status="answered")
    signed = await make_note(answered.id, ana.id, signed=True)
    before = await _case_versions()

    await _set_active(client, factory, admin, ana, False)

    assert await _case_versions() == before
    async with sessionmaker()() as s:
        note = await s.get(Note, signed.id)
    assert note.status == "signed" and note.signed_by_id == ana.id
    assert await events("case.unmatched") == []


async def test_her_pending_offers_are_withdrawn_and_the_cases_move_on(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    bea = await make_specialist(factory)
    # Offered to both: hers goes, Bea's stays, the case stays offered.
    both = await factory.make_case(org.id, status="offered")
    her_offer = await factory.make_offer(both.id, ana.id)
    bea_offer = await factory.make_offer(both.id, bea.id)
    # Offered to her alone: withdrawn, and the case passes down the ranking, as on a decline.
    alone = await factory.make_case(org.id, status="offered")
    only = await factory.make_offer(alone.id, ana.id)

    await _set_active(client, factory, admin, ana, False)

    assert {o.id: o.status for o in await offers_of(both.id)} == {
        her_offer.id: "withdrawn",
        bea_offer.id: "pending",
    }
    assert (await case_status(both.id)).status == "offered"
    offers = {o.specialist_id: o.status for o in await offers_of(alone.id)}
    assert offers == {ana.id: "withdrawn", bea.id: "pending"}
    withdrawn = await events("offer.withdrawn")
    assert sorted(e.resource_id for e in withdrawn) == sorted([her_offer.id, only.id])
    r = await client.get(f"{API}/offers?status=pending", headers=factory.headers(coord))
    assert ana.id not in [o["specialist_id"] for o in r.json()["items"]]


async def test_with_nobody_else_her_offered_case_is_unmatched(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    case = await factory.make_case(org.id, status="offered")
    await factory.make_offer(case.id, ana.id)

    await _set_active(client, factory, admin, ana, False)

    assert (await case_status(case.id)).status == "unmatched"
    [told] = await events("matching.unmatched", case.id)
    assert coord.id in told.audience


async def test_deactivating_a_clinician_or_a_specialist_without_cases_changes_no_case(
    client, factory
):
    org = await factory.make_org()
    admin = await factory.make_user(Role.admin)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    idle = await make_specialist(factory)
    busy = await make_specialist(factory)
    await factory.make_case(org.id, submitted_by_id=clin.id)
    await factory.make_case(org.id, submitted_by_id=clin.id, assigned_specialist_id=busy.id)
    offered = await factory.make_case(org.id, submitted_by_id=clin.id, status="offered")
    await factory.make_offer(offered.id, busy.id)
    before = await _case_versions()

    await _set_active(client, factory, admin, clin, False)
    await _set_active(client, factory, admin, idle, False)

    assert await _case_versions() == before
    async with sessionmaker()() as s:
        case_events = (
            await s.scalars(select(OutboxEvent.type).where(OutboxEvent.resource_type == "case"))
        ).all()
    assert case_events == []


async def test_the_deactivation_event_is_internal(client, factory):
    """Matching hears of it in the transaction; no partner or feed ever does."""
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    await _set_active(client, factory, admin, ana, False)
    [ev] = await events(USER_DEACTIVATED, ana.id)
    assert ev.audience == [] and ev.organization_id is None
    assert USER_DEACTIVATED in INTERNAL_EVENTS and USER_DEACTIVATED not in WEBHOOK_EVENTS
    await caught_up()
    r = await client.get(f"{API}/changes", headers=factory.headers(admin))
    assert r.status_code == 200, r.text
    assert USER_DEACTIVATED not in [i["type"] for i in r.json()["items"]]


async def test_a_specialist_made_coordinator_gives_back_her_cases_too(client, factory):
    """An admin who changes a specialist's role (a volunteer who now coordinates) is a
    deactivation for her cases: she can no longer write or sign their notes."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    ana = await make_specialist(factory)
    case, _ = await _assigned_via_api(client, factory, coord, clin, org, ana)
    offered = await factory.make_case(org.id, status="offered")
    await factory.make_offer(offered.id, ana.id)

    r = await client.patch(
        f"{API}/users/{ana.id}", json={"role": "coordinator"}, headers=factory.headers(admin)
    )
    assert r.status_code == 200, r.text
    row = await case_status(case.id)
    assert (row.status, row.assigned_specialist_id) == ("unmatched", None)
    [ev] = await events("case.unmatched", case.id)
    assert ev.payload["status_reason"] == "specialist_role_changed"
    assert [o.status for o in await offers_of(offered.id)] == ["withdrawn"]
    # The name changed, or made a specialist again: nothing moves.
    before = await _case_versions()
    for body in ({"name": "Ana Ruiz"}, {"role": "specialist"}):
        r = await client.patch(f"{API}/users/{ana.id}", json=body, headers=factory.headers(admin))
        assert r.status_code == 200, r.text
    assert await _case_versions() == before


async def test_the_facilitys_partner_app_hears_why_its_case_went_back(client, factory):
    """`case.unmatched` from `assigned` carries `status_reason` (a code, never text) in the
    partner feed and the webhooks, so an EMR can tell the clinic the case is being offered
    again rather than that nobody would take it."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    emr = await factory.make_client(org.id, scopes=["cases:read"])
    ana = await make_specialist(factory)
    case, _ = await _assigned_via_api(client, factory, coord, clin, org, ana)
    await _set_active(client, factory, admin, ana, False)
    await caught_up()
    r = await client.get(f"{API}/changes", headers=factory.headers(emr))
    assert r.status_code == 200, r.text
    [item] = [i for i in r.json()["items"] if i["type"] == "case.unmatched"]
    assert item["resource_id"] == case.id
    assert item["data"]["status_reason"] == REASON
    assert item["data"]["previous_status"] == "assigned"
    assert "specialist_id" not in item["data"] and "actor_id" not in item["data"]
