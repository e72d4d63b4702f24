"""Deliveries: Standard Webhooks signatures, thin payloads, facility reach, retries and
their order, Retry-After, 410, redirects, the URL rule at send time, retry, rotation."""

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.core.config import get_settings
from app.core.db import sessionmaker, utcnow
from app.core.principal import Role
from app.events.service import emit
from app.partners.dispatcher import SCHEDULE, backoff, fanout, retry_after
from app.partners.models import WebhookDelivery, WebhookEndpoint
from tests.partners.helpers import caught_up, commit_event, dispatch, subscribe
from tests.partners.support import API


def verified(receiver, secret: str) -> list[dict]:
    """Check every received request as a partner would, with the standardwebhooks library."""
    wh = Webhook(secret)
    return [wh.verify(c.body, c.headers) for c in receiver.calls]


async def test_signed_thin_delivery_verifies_with_standardwebhooks(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.submitted"])
    ev_id = await commit_event(
        "case.submitted",
        org.id,
        "case_abc",
        status="submitted",
        patient_reference="MRN-SECRET",
        question="rash?",
        specialty="dermatology",
    )
    assert await dispatch(http) == 1
    [call] = receiver.calls
    assert call.headers["webhook-id"].startswith("whd_")
    assert call.headers["webhook-signature"].startswith("v1,")
    assert call.headers["content-type"] == "application/json"
    [body] = verified(receiver, w["secret"])
    assert body["type"] == "case.submitted"
    assert body["timestamp"].endswith("Z")
    assert body["data"] == {
        "event_id": f"evt_{ev_id}",
        "resource_type": "case",
        "resource_id": "case_abc",
        "organization_id": org.id,
        "case_id": "case_abc",
        "status": "submitted",
        "specialty": "dermatology",
    }
    assert b"MRN-SECRET" not in call.body and b"rash" not in call.body
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43).verify(call.body, call.headers)
    log = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"]
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 1
    assert log[0]["attempt_log"][0]["status_code"] == 200
    # Nothing more is sent: no next attempt is named (it was, as if one were coming).
    assert log[0]["next_attempt_at"] is None
    # Ids are opaque strings, and a delivery names its event as the payload does.
    assert log[0]["event_id"] == body["data"]["event_id"] == f"evt_{ev_id}"


async def test_each_subscriber_gets_only_what_its_facility_may_see(client, factory, receiver, http):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    a, b = await factory.make_client(org_a.id), await factory.make_client(org_b.id)
    rounds_only = await factory.make_client(org_a.id, scopes=["rounds:read", "webhooks:manage"])
    admin = await factory.make_user(Role.admin)
    every = ["case.submitted", "case.closed", "round.updated"]
    subs = {}
    for name, who in {"a": a, "b": b, "rounds": rounds_only, "admin": admin}.items():
        receiver.path = f"/{name}"
        wanted = ["round.updated"] if who is rounds_only else every
        subs[name] = await subscribe(client, factory.headers(who), receiver.url, wanted)
    # An app is refused events beyond its scopes when it subscribes; one subscribed to them
    # anyway (before that check) is still sent only what its scopes let it read.
    async with sessionmaker()() as s:
        await s.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == subs["rounds"]["id"])
            .values(events=sorted(every))
        )
        await s.commit()
    await commit_event("case.submitted", org_a.id, "case_1")
    await commit_event("case.closed", org_b.id, "case_2")
    await commit_event("round.updated", org_a.id, "rnd_1", resource_type="round")
    await commit_event("case.answered", org_a.id, "case_1")  # nobody subscribed to it
    await dispatch(http)
    got: dict[str, list[str]] = {}
    async with sessionmaker()() as s:
        rows = (
            await s.execute(
                select(WebhookDelivery.endpoint_id, WebhookDelivery.payload).order_by(
                    WebhookDelivery.event_id
                )
            )
        ).all()
    by_endpoint = {v["id"]: k for k, v in subs.items()}
    for endpoint_id, payload in rows:
        got.setdefault(by_endpoint[endpoint_id], []).append(payload["data"]["resource_id"])
    assert got == {
        "a": ["case_1", "rnd_1"],
        "b": ["case_2"],
        "rounds": ["rnd_1"],
        "admin": ["case_1", "case_2", "rnd_1"],
    }
    assert len(receiver.calls) == 7


async def test_retry_after_is_honoured_and_later_events_wait_their_turn(
    client, factory, receiver, http, clock
):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.submitted"])
    receiver.answers = [(503, {"Retry-After": "1"})]
    await commit_event("case.submitted", org.id, "case_1")
    await dispatch(http)
    await commit_event("case.submitted", org.id, "case_2")
    await dispatch(http)
    # The second event is not sent while the first waits for its retry.
    assert len(receiver.calls) == 1
    async with sessionmaker()() as s:
        first = (
            await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id))
        ).first()
    wait = (first.next_attempt_at - first.updated_at).total_seconds()
    assert 0.5 < wait < 1.5, wait  # Retry-After, not the 5 s of the schedule
    clock.advance(timedelta(seconds=1.1))  # the retry falls due on the programme's clock
    await dispatch(http)
    order = [b["data"]["resource_id"] for b in verified(receiver, w["secret"])]
    assert order == ["case_1", "case_1", "case_2"]
    log = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"]
    oldest = log[-1]
    assert [a["status_code"] for a in oldest["attempt_log"]] == [503, 200]
    assert oldest["attempt_log"][0]["error"] == "HTTP 503"


async def test_failures_follow_the_schedule_with_jitter(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    receiver.answers = [(500, {})]
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    async with sessionmaker()() as s:
        d = (await s.scalars(select(WebhookDelivery))).one()
    assert d.status == "pending" and d.attempts == 1 and d.last_status_code == 500
    assert 4.4 < (d.next_attempt_at - d.updated_at).total_seconds() < 5.6
    # While pending, the log names when it is sent next.
    [shown] = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"]
    assert datetime.fromisoformat(shown["next_attempt_at"]) == d.next_attempt_at
    assert SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    waits = [backoff(n) for n in range(1, 8)]
    assert all(0.9 * s <= w <= 1.1 * s for w, s in zip(waits, SCHEDULE, strict=True))
    assert backoff(8) is None
    assert retry_after("120") == 120 and retry_after("soon") is None
    assert (
        50
        < retry_after((utcnow() + timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S GMT"))
        <= 60
    )


async def test_schedule_exhausted_marks_failed_and_the_queue_moves_on(
    client, factory, receiver, http
):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    await commit_event("case.closed", org.id, "case_1")
    await commit_event("case.closed", org.id, "case_2")
    await dispatch(http, passes=1)  # fan out only what is there, send both
    receiver.calls.clear()
    async with sessionmaker()() as s:
        await s.execute(update(WebhookDelivery).values(status="pending", attempts=7, failures=7))
        await s.commit()
    receiver.answers = [(500, {})]
    await dispatch(http)
    statuses = {
        d["payload"]["data"]["resource_id"]: d["status"]
        for d in (
            await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
        ).json()["items"]
    }
    assert statuses == {"case_1": "failed", "case_2": "delivered"}


async def test_410_disables_the_endpoint(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    receiver.answers = [(410, {})]
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    await commit_event("case.closed", org.id, "case_2")
    await dispatch(http)
    assert len(receiver.calls) == 1
    got = (await client.get(f"{API}/webhooks/{w['id']}", headers=h)).json()
    assert got["active"] is False and "410" in got["disabled_reason"]
    d = (await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)).json()["items"]
    r = await client.post(f"{API}/webhooks/{w['id']}/deliveries/{d[0]['id']}/retry", headers=h)
    assert r.status_code == 409 and r.json()["type"].endswith("webhook-disabled")


async def test_an_endpoint_failing_for_days_is_disabled(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    async with sessionmaker()() as s:
        await s.execute(update(WebhookEndpoint).values(failing_since=utcnow() - timedelta(days=6)))
        await s.commit()
    receiver.answers = [(500, {})]
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    got = (await client.get(f"{API}/webhooks/{w['id']}", headers=factory.headers(cl))).json()
    assert got["active"] is False and got["disabled_reason"].startswith("failing since")


async def test_redirects_are_not_followed(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    receiver.answers = [(302, {"Location": "http://169.254.169.254/"})]
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    assert len(receiver.calls) == 1
    d = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"][0]
    assert d["status"] == "pending" and "redirects are not followed" in d["last_error"]


async def test_the_url_rule_is_checked_again_at_each_delivery(
    client, factory, receiver, http, monkeypatch
):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    assert receiver.calls == []
    d = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"][0]
    assert d["status"] == "pending" and "https" in d["last_error"]


async def test_retry_sends_one_delivery_again(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    d = (await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)).json()["items"][0]
    r = await client.post(f"{API}/webhooks/{w['id']}/deliveries/{d['id']}/retry", headers=h)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    await dispatch(http)
    assert [c.headers["webhook-id"] for c in receiver.calls] == [d["id"], d["id"]]
    assert len(verified(receiver, w["secret"])) == 2
    other = await factory.make_client(org.id)
    r = await client.post(
        f"{API}/webhooks/{w['id']}/deliveries/{d['id']}/retry", headers=factory.headers(other)
    )
    assert r.status_code == 404
    r = await client.post(f"{API}/webhooks/{w['id']}/deliveries/whd_nope/retry", headers=h)
    assert r.status_code == 404


async def test_after_rotation_old_and_new_secrets_both_verify(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    new = (await client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h)).json()
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    [call] = receiver.calls
    assert len(call.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(w["secret"]).verify(call.body, call.headers)["type"] == "case.closed"
    assert Webhook(new["secret"]).verify(call.body, call.headers)["type"] == "case.closed"
    # After the grace period only the new secret signs.
    async with sessionmaker()() as s:
        await s.execute(
            update(WebhookEndpoint).values(
                previous_secret_expires_at=utcnow() - timedelta(seconds=1)
            )
        )
        await s.commit()
    await commit_event("case.closed", org.id, "case_2")
    await dispatch(http)
    last = receiver.calls[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(new["secret"]).verify(last.body, last.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(w["secret"]).verify(last.body, last.headers)


async def test_a_second_rotation_within_the_day_keeps_the_first_secret_signing(
    client, factory, receiver, http, clock
):
    """A rotation retried because its answer was lost (409 idempotent-secret-withheld says
    to rotate again): the receiver still holds the first secret, which must keep verifying
    for its 24 hours; it used to stop at the second rotation."""
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    first = (await client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h)).json()
    clock.advance(timedelta(hours=1))
    second = (await client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h)).json()
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    [call] = receiver.calls
    assert len(call.headers["webhook-signature"].split(" ")) == 3
    for secret in (w["secret"], first["secret"], second["secret"]):
        assert Webhook(secret).verify(call.body, call.headers)["type"] == "case.closed"
    # Each keeps its own 24 hours: the original goes first, then the one replaced after it.
    clock.advance(timedelta(hours=23, minutes=30))
    await commit_event("case.closed", org.id, "case_2")
    await dispatch(http)
    last = receiver.calls[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 2
    with pytest.raises(WebhookVerificationError):
        Webhook(w["secret"]).verify(last.body, last.headers)
    Webhook(first["secret"]).verify(last.body, last.headers)
    Webhook(second["secret"]).verify(last.body, last.headers)


async def test_two_rotations_at_once_keep_both_secrets_signing(client, factory, receiver, http):
    """Two rotations sent together (a retry racing the request whose answer seemed lost):
    the receiver may hold either secret it was given, so both must verify. Before, on
    PostgreSQL both read the same endpoint and the second overwrote the first's secret,
    which then signed nothing."""
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    rs = await asyncio.gather(
        *(client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h) for _ in range(2))
    )
    assert [r.status_code for r in rs] == [200, 200], [r.text for r in rs]
    secrets = {r.json()["secret"] for r in rs}
    assert len(secrets) == 2
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    [call] = receiver.calls
    for secret in (w["secret"], *secrets):
        assert Webhook(secret).verify(call.body, call.headers)["type"] == "case.closed"


async def test_rotations_retried_in_a_loop_keep_a_bounded_number_of_secrets(
    client, factory, receiver, http
):
    """Each replaced secret signs every delivery while it lasts: a script rotating in a
    loop must not grow the header past a receiver's limit. The newest are kept."""
    from app.partners.service import OLDER_SECRETS_KEPT

    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    secrets = [w["secret"]]
    for _ in range(OLDER_SECRETS_KEPT + 3):
        r = await client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h)
        secrets.append(r.json()["secret"])
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    [call] = receiver.calls
    kept = OLDER_SECRETS_KEPT + 2  # the current, the previous, the newest older ones
    assert len(call.headers["webhook-signature"].split(" ")) == kept
    for secret in secrets[-kept:]:
        Webhook(secret).verify(call.body, call.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secrets[0]).verify(call.body, call.headers)


async def test_a_rolled_back_change_is_never_delivered(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    async with sessionmaker()() as s:
        await emit(
            s,
            "case.closed",
            "case",
            "case_rolled_back",
            organization_id=org.id,
            payload={"case_id": "case_rolled_back"},
        )
        await s.flush()
        await s.rollback()
    await commit_event("case.closed", org.id, "case_committed")
    await dispatch(http)
    assert [b["data"]["resource_id"] for b in verified(receiver, w["secret"])] == ["case_committed"]


async def test_deleting_a_webhook_stops_deliveries(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    assert (await client.delete(f"{API}/webhooks/{w['id']}", headers=h)).status_code == 204
    await commit_event("case.closed", org.id, "case_1")
    await dispatch(http)
    assert receiver.calls == []


async def test_payload_is_json_with_the_spec_fields(client, factory, receiver, http):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    await subscribe(client, factory.headers(cl), receiver.url, ["message.created"])
    await commit_event(
        "message.created",
        org.id,
        "msg_1",
        resource_type="message",
        audience=[],
        seq=4,
        body="the patient's words",
        sender_id="usr_1",
    )
    await dispatch(http)
    body = json.loads(receiver.calls[0].body)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["seq"] == 4 and "body" not in body["data"]


async def test_the_background_worker_jobs_deliver(client, factory, receiver):
    from app.partners.jobs import JOBS
    from tests.partners.helpers import caught_up

    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, receiver.url, ["case.closed"])
    await commit_event("case.closed", org.id, "case_1")
    await caught_up()
    await JOBS["partners.fanout"]()
    await JOBS["partners.deliver"]()
    assert [b["data"]["resource_id"] for b in verified(receiver, w["secret"])] == ["case_1"]
    delivered = await client.get(f"{API}/webhooks/{w['id']}/deliveries?status=delivered", headers=h)
    pending = await client.get(f"{API}/webhooks/{w['id']}/deliveries?status=pending", headers=h)
    assert len(delivered.json()["items"]) == 1 and pending.json()["items"] == []


async def test_the_app_runs_the_dispatcher_loop_in_embedded_mode(
    app, client, factory, receiver, monkeypatch
):
    from app.partners.lifespan import lifespan

    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(cl), receiver.url, ["case.closed"])
    monkeypatch.setattr(get_settings(), "run_worker", True)
    async with lifespan(app):
        await commit_event("case.closed", org.id, "case_1")
        for _ in range(200):
            if receiver.calls:
                break
            await asyncio.sleep(0.025)
    assert [b["data"]["resource_id"] for b in verified(receiver, w["secret"])] == ["case_1"]


async def test_an_unreachable_endpoint_is_probed_without_using_up_the_schedule(
    client, factory, http
):
    from tests.partners.support import free_socket

    sock = free_socket()  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    w = await subscribe(
        client, factory.headers(cl), f"http://127.0.0.1:{port}/hook", ["case.closed"]
    )
    await commit_event("case.closed", org.id, "case_1")
    for i in range(3):
        if i:  # skip the probe interval
            async with sessionmaker()() as s:
                await s.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
                await s.commit()
        await dispatch(http)
    sock.close()
    d = (
        await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=factory.headers(cl))
    ).json()["items"][0]
    assert d["status"] == "pending" and d["attempts"] >= 3 and d["failures"] == 0
    assert d["last_error"].startswith("ConnectError")
    assert (
        8
        < (
            datetime.fromisoformat(d["next_attempt_at"]) - datetime.fromisoformat(d["updated_at"])
        ).total_seconds()
        < 12
    )


async def test_a_delivery_keeps_its_latest_attempts(client, factory, http, clock, monkeypatch):
    """An unreachable endpoint is tried every ten seconds for days: its delivery keeps the
    latest KEPT_ATTEMPTS attempts (here three) and still counts every one; at the limit
    nothing goes, and another delivery's attempts are not touched."""
    from app.partners import dispatcher
    from app.partners.models import WebhookAttempt
    from tests.partners.support import free_socket

    monkeypatch.setattr(dispatcher, "KEPT_ATTEMPTS", 3)
    sock = free_socket()  # bound, never listening: connections are refused
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    w = await subscribe(client, factory.headers(cl), url, ["case.closed"])
    await commit_event("case.closed", org.id, "case_1")
    await commit_event("case.closed", org.id, "case_2")  # waits behind the first
    h = factory.headers(cl)

    async def log() -> dict[str, dict]:
        items = (await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)).json()
        return {d["payload"]["data"]["resource_id"]: d for d in items["items"]}

    await caught_up()
    await fanout()  # the deliveries, none sent yet
    second = (await log())["case_2"]["id"]
    async with sessionmaker()() as s:  # the second's own history, from an earlier outage
        s.add_all(WebhookAttempt(delivery_id=second, error="ConnectError") for _ in range(4))
        await s.commit()
    tried = []  # each attempt's time, as the log showed it just after it was made
    for n in range(5):
        clock.advance(timedelta(seconds=11))  # past the probe interval
        await dispatch(http)
        shown = (await log())["case_1"]["attempt_log"]
        tried.append(shown[-1]["at"])
        if n == 2:  # at the limit: all three kept
            assert len(shown) == 3
    sock.close()
    d = (await log())["case_1"]
    assert d["attempts"] == 5 and d["status"] == "pending"
    assert len(set(tried)) == 5
    assert [a["at"] for a in d["attempt_log"]] == tried[2:]  # the latest three
    async with sessionmaker()() as s:
        rows = await s.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == second))
        assert len(rows.all()) == 4


async def test_the_log_shows_the_latest_attempts_of_a_delivery_tried_no_more(client, factory):
    """Attempts gathered before the dispatcher let old ones go: the log still shows the
    latest KEPT_ATTEMPTS."""
    from app.partners.models import KEPT_ATTEMPTS, WebhookAttempt

    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = await subscribe(client, h, "https://partner.example/hook", ["case.closed"])
    await commit_event("case.closed", org.id, "case_1")
    await caught_up()
    await fanout()  # the delivery, not sent
    [d] = (await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)).json()["items"]
    async with sessionmaker()() as s:
        s.add_all(
            WebhookAttempt(delivery_id=d["id"], status_code=500, duration_ms=i)
            for i in range(KEPT_ATTEMPTS + 5)
        )
        await s.commit()
    [d] = (await client.get(f"{API}/webhooks/{w['id']}/deliveries", headers=h)).json()["items"]
    assert [a["duration_ms"] for a in d["attempt_log"]] == list(range(5, KEPT_ATTEMPTS + 5))
