"""Every event kind the service emits can be subscribed to, from one list."""

import json

from app.cases.lifecycle import EVENT_FOR
from app.events.kinds import WEBHOOK_EVENTS
from tests.partners.helpers import dispatch, subscribe
from tests.partners.support import API

# The contract's list (API.md, "Partner integration").
CONTRACT = {
    "case.submitted",
    "case.offered",
    "case.assigned",
    "case.answered",
    "case.unmatched",
    "case.overdue",
    "case.cancelled",
    "case.closed",
    "message.created",
    "note.signed",
    "followup.due",
    "round.updated",
}
# Beyond the contract: the audit chain's signed head, for staff (issue 16, docs/security.md).
# And a follow-up still open a day after it fell due (issue 14: "due and overdue").
ADDED = {"audit.checkpoint", "followup.overdue"}


def test_the_one_list_is_the_contracts_and_covers_every_case_transition():
    assert set(WEBHOOK_EVENTS) == CONTRACT | ADDED
    assert set(EVENT_FOR.values()) <= set(WEBHOOK_EVENTS)


async def test_every_kind_can_be_subscribed_to(client, factory):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(cl),
        json={"url": "https://93.184.215.14/h", "events": sorted(CONTRACT)},
    )
    assert r.status_code == 201, r.text
    assert r.json()["events"] == sorted(CONTRACT)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(cl),
        json={"url": "https://93.184.215.14/h", "events": ["case.exploded"]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/events/0"


async def test_a_cancelled_case_reaches_its_subscriber(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id, scopes=["cases:read", "cases:write", "webhooks:manage"])
    await subscribe(client, factory.headers(cl), receiver.url, ["case.cancelled"])
    case = await factory.make_case(org.id)
    r = await client.post(
        f"{API}/cases/{case.id}/cancel",
        headers=factory.headers(cl),
        json={"reason": "patient transferred"},
    )
    assert r.status_code == 200, r.text
    assert await dispatch(http) == 1
    [call] = receiver.calls
    body = json.loads(call.body)
    assert body["type"] == "case.cancelled"
    assert body["data"]["case_id"] == case.id and body["data"]["status"] == "cancelled"


async def test_a_message_event_names_its_message_as_the_catalogue_says(client, factory):
    """`message.created` carries `message_id` (the catalogue and the OpenAPI `webhooks`
    list it); it carried the id only as `resource_id`. Never the message's text."""
    from app.core.principal import Role
    from tests.partners.helpers import caught_up

    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, status="assigned", assigned_specialist_id=spec.id)
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "The rash is spreading to the neck.", "client_msg_id": "m-1"},
        headers=factory.headers(clin),
    )
    assert r.status_code == 201, r.text
    message = r.json()
    emr = await factory.make_client(org.id, scopes=["cases:read"])
    await caught_up()
    r = await client.get(f"{API}/changes", headers=factory.headers(emr))
    [item] = [i for i in r.json()["items"] if i["type"] == "message.created"]
    assert item["data"]["message_id"] == item["resource_id"] == message["id"]
    assert item["data"]["case_id"] == case.id and item["data"]["seq"] == message["seq"]
    assert "spreading" not in json.dumps(item)
