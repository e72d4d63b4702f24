"""The inbox resumes after a drop as the room does: a flaky link never loses an offer."""

import asyncio

import pytest

from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.service import emit
from tests.realtime.support import inprocess_server, open_socket


@pytest.fixture
async def host(app):
    async with inprocess_server(app) as h:
        yield h


async def _emit(event_type: str, resource_id: str, **kw) -> None:
    async with sessionmaker()() as s:
        await emit(s, event_type, resource_id.split("_")[0], resource_id, **kw)
        await s.commit()


async def _events_until(c, resource_id: str) -> list[dict]:
    """Event frames up to and including the one about `resource_id`."""
    got = []
    while True:
        ev = await c.next("event")
        got.append(ev)
        if ev["resource_id"] == resource_id:
            return got


def _new(frames: list[dict], after: int) -> list[str]:
    return [f["resource_id"] for f in frames if f["id"] > after]


async def test_a_specialist_who_lost_her_link_gets_the_offers_she_missed_in_order(host, factory):
    org = await factory.make_org()
    other_org = await factory.make_org()
    specialist = await factory.make_user(Role.specialist)
    colleague = await factory.make_user(Role.specialist)
    c = await open_socket(host, "/ws/inbox", factory.token(specialist))
    await _emit("offer.created", "offer_1", organization_id=org.id, audience=[specialist.id])
    heard = await c.next("event")
    await c.close()

    # While she is away: two offers for her, one for a colleague, a facility's case event.
    await _emit("offer.created", "offer_2", organization_id=org.id, audience=[specialist.id])
    await _emit("offer.created", "offer_3", organization_id=org.id, audience=[colleague.id])
    await _emit("case.submitted", "case_1", organization_id=other_org.id)
    await _emit("offer.expiring", "offer_2", organization_id=org.id, audience=[specialist.id])

    back = await open_socket(host, "/ws/inbox", factory.token(specialist), after_id=heard["id"])
    await _emit("offer.created", "offer_4", organization_id=org.id, audience=[specialist.id])
    frames = await _events_until(back, "offer_4")
    # What she missed, in order, then live; nothing of anyone else's. (On PostgreSQL a
    # resume also re-reads moments before her last event: the client drops ids it has.)
    assert _new(frames, heard["id"]) == ["offer_2", "offer_2", "offer_4"]
    assert [f["event"] for f in frames if f["id"] > heard["id"]] == [
        "offer.created",
        "offer.expiring",
        "offer.created",
    ]
    assert {f["id"] for f in frames if f["id"] <= heard["id"]} <= {heard["id"]}
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    await back.close()


async def test_a_clinician_who_heard_nothing_resumes_from_where_her_socket_stood(host, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    c = await open_socket(host, "/ws/inbox", factory.token(clinician))
    stood = c.ready["last_event_id"]
    assert isinstance(stood, int) and stood >= 0
    await c.close()

    await _emit("note.signed", "note_1", organization_id=org.id, payload={"case_id": "case_9"})
    back = await open_socket(host, "/ws/inbox", factory.token(clinician), after_id=stood)
    ev = await back.next("event")
    assert (ev["event"], ev["resource_id"]) == ("note.signed", "note_1")
    assert ev["id"] > stood and back.ready["last_event_id"] >= ev["id"]
    await back.close()


async def test_a_resume_on_an_open_socket_sends_nothing_twice(host, factory):
    specialist = await factory.make_user(Role.specialist)
    c = await open_socket(host, "/ws/inbox", factory.token(specialist))
    start = c.ready["last_event_id"]
    await _emit("offer.created", "offer_1", audience=[specialist.id])
    await _emit("offer.created", "offer_2", audience=[specialist.id])
    assert [f["resource_id"] for f in await _events_until(c, "offer_2")] == ["offer_1", "offer_2"]

    # A client unsure of what it got asks again from before both: it has them already.
    await c.send({"type": "resume", "after_id": start})
    await _emit("offer.created", "offer_3", audience=[specialist.id])
    assert (await c.next("event"))["resource_id"] == "offer_3"
    await c.close()


async def test_attack_a_resume_replays_nothing_a_user_may_not_hear(host, factory):
    org = await factory.make_org()
    mine = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=mine.id)
    reader = await factory.make_client(mine.id, scopes=["rounds:read"])
    c = await open_socket(host, "/ws/inbox", factory.token(clinician))
    start = c.ready["last_event_id"]
    await c.close()
    await _emit("case.submitted", "case_1", organization_id=org.id)  # another facility's
    await _emit("offer.created", "offer_1", organization_id=mine.id)  # names nobody
    await _emit("case.answered", "case_2", organization_id=mine.id)  # needs cases:read
    await _emit("round.scheduled", "round_1", organization_id=mine.id)
    await _emit("session.ended", "user_1", audience=[clinician.id])  # internal

    back = await open_socket(host, "/ws/inbox", factory.token(clinician), after_id=start)
    assert [f["resource_id"] for f in await _events_until(back, "round_1")] == [
        "case_2",
        "round_1",
    ]
    token = factory.headers(reader)["Authorization"].split()[1]
    api = await open_socket(host, "/ws/inbox", token, after_id=start)
    assert (await api.next("event"))["resource_id"] == "round_1"
    await back.close()
    await api.close()


async def test_a_bad_resume_gets_a_clear_error(host, factory):
    user = await factory.make_user(Role.coordinator)
    c = await open_socket(host, "/ws/inbox", factory.token(user))
    for bad in (-1, "7", True, None, 2**70):
        await c.send({"type": "resume", "after_id": bad})
        err = await c.next("error")
        assert err["code"] == "invalid-frame" and "after_id" in err["detail"]
    await c.send({"type": "ping"})
    assert (await c.next("pong"))["type"] == "pong"
    await c.close()


async def _held(app, user_id: str, resource_id: str) -> None:
    """Until the user's inbox socket holds a live frame about `resource_id`, unsent."""
    async with asyncio.timeout(10):
        while not any(  # noqa: ASYNC110 (the hub offers no event to await)
            f'"{resource_id}"' in text
            for conn in app.state.hub.inbox_users.get(user_id, ())
            for _, text in conn.buf
        ):
            await asyncio.sleep(0.01)


async def _truncated(host, factory, monkeypatch):
    """A specialist's socket resumed from before six offers, two pages of two replayed."""
    from app.realtime import inbox

    monkeypatch.setattr(inbox, "PAGE", 2)
    monkeypatch.setattr(inbox, "REPLAY_PAGES", 2)
    specialist = await factory.make_user(Role.specialist)
    c = await open_socket(host, "/ws/inbox", factory.token(specialist))
    start = c.ready["last_event_id"]
    await c.close()
    for i in range(6):
        await _emit("offer.created", f"offer_{i}", audience=[specialist.id])

    back = await open_socket(host, "/ws/inbox", factory.token(specialist), after_id=start)
    got = [(await back.next("event"))["resource_id"] for _ in range(4)]
    assert got == ["offer_0", "offer_1", "offer_2", "offer_3"]
    err = await back.next("error")
    assert err["code"] == "resume-truncated"
    return specialist, back, err


async def test_a_resume_from_long_ago_replays_a_bounded_amount_then_says_so(
    app, host, factory, monkeypatch
):
    monkeypatch.setattr(app.state.hub, "resume_wait", 60)  # however slow the client is
    specialist, back, err = await _truncated(host, factory, monkeypatch)
    # An offer made now waits: sent live, it would overtake the two the replay left out.
    await _emit("offer.created", "offer_6", audience=[specialist.id])
    await _held(app, specialist.id, "offer_6")
    # Where the replay stopped: a client may resume from there, or read its lists again.
    # (With pages this small, PostgreSQL's look back over moments before that point takes a
    # page of its own, so a replay may stop short again: the client resumes again.)
    rest: list[str] = []
    await back.send({"type": "resume", "after_id": err["last_event_id"]})
    while len(rest) < 3:
        frame = await back.next()
        if frame["type"] == "event":
            rest.append(frame["resource_id"])
        elif frame.get("code") == "resume-truncated":
            await back.send({"type": "resume", "after_id": frame["last_event_id"]})
    assert rest == ["offer_4", "offer_5", "offer_6"]
    await back.close()


async def test_after_a_truncated_replay_live_events_flow_if_the_client_does_not_resume(
    app, host, factory, monkeypatch
):
    monkeypatch.setattr(app.state.hub, "resume_wait", 0)  # she reads her lists again instead
    specialist, back, _ = await _truncated(host, factory, monkeypatch)
    await _emit("offer.created", "offer_6", audience=[specialist.id])
    frames = await _events_until(back, "offer_6")
    # The relay may have published offers 4 and 5 only after her socket opened (PostgreSQL,
    # a busy machine): live, they come before offer 6, once each, in order.
    heard = [f["resource_id"] for f in frames]
    assert heard in (["offer_6"], ["offer_5", "offer_6"], ["offer_4", "offer_5", "offer_6"])
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    await back.close()
