"""The live room over a real socket (uvicorn in the test process, on the suite's database)."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from websockets.exceptions import InvalidStatus

from app.cases.lifecycle import transition
from app.cases.models import Case, CaseParticipant, CaseStatus
from app.consults.models import Message
from app.core.db import sessionmaker
from app.core.principal import Role
from app.core.security import create_token
from app.events.service import emit
from tests.realtime.support import API, inprocess_server, open_socket


@pytest.fixture
async def host(app):
    async with inprocess_server(app) as h:
        yield h


async def _room(factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    await factory.add_participant(case.id, interpreter.id)
    return case, clinician, specialist, interpreter


async def _stored(case_id: str) -> list[int]:
    async with sessionmaker()() as s:
        return list(
            (
                await s.scalars(
                    select(Message.seq).where(Message.case_id == case_id).order_by(Message.seq)
                )
            ).all()
        )


async def test_a_message_frame_is_stored_acked_and_broadcast(host, factory):
    case, clinician, specialist, _ = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    b = await open_socket(host, f"/ws/cases/{case.id}", factory.token(specialist), after_seq=0)
    assert a.ready["last_seq"] == 0 and a.ready["case_id"] == case.id
    await a.send({"type": "message", "body": "Fever 39.5 since Monday", "client_msg_id": "u1"})
    ack = await a.next("ack")
    assert ack == {
        "type": "ack",
        "client_msg_id": "u1",
        "id": ack["id"],
        "seq": 1,
        "duplicate": False,
    }
    got = await b.next("message")
    assert got["seq"] == 1 and got["body"] == "Fever 39.5 since Monday"
    assert got["sender_id"] == clinician.id and got["sender_role"] == "clinician"
    # The sender hears it too (before or after its ack).
    own = [f for f in a.frames if f["type"] == "message"] or [await a.next("message")]
    assert own[0]["seq"] == 1
    # A resend after a drop is acknowledged as the stored message, not stored twice.
    await a.send({"type": "message", "body": "Fever 39.5 since Monday", "client_msg_id": "u1"})
    dup = await a.next("ack")
    assert dup["duplicate"] is True and dup["seq"] == 1 and dup["id"] == ack["id"]
    await b.send({"type": "message", "body": "Any rash?", "client_msg_id": "s1"})
    assert (await b.next("message"))["seq"] == 2
    while not [f for f in a.frames if f["type"] == "message" and f["seq"] == 2]:
        await a.next("message")
    assert [f["seq"] for f in a.frames if f["type"] == "message"] == [1, 2]
    assert await _stored(case.id) == [1, 2]
    await a.close()
    await b.close()


async def test_resume_replays_what_was_missed_then_live_without_gap_or_duplicate(
    host, factory, client
):
    case, clinician, specialist, _ = await _room(factory)
    url = f"{API}/cases/{case.id}/messages"
    for i in range(5):
        await client.post(
            url,
            json={"body": f"m{i}", "client_msg_id": f"c{i}"},
            headers=factory.headers(clinician),
        )
    # `resume` as its own frame, right after auth.
    b = await open_socket(host, f"/ws/cases/{case.id}", factory.token(specialist))
    assert b.ready["last_seq"] == 5
    await b.send({"type": "resume", "after_seq": 2})

    async def more():
        for i in range(5, 10):
            await client.post(
                url,
                json={"body": f"m{i}", "client_msg_id": f"c{i}"},
                headers=factory.headers(clinician),
            )

    await more()
    got = await b.messages(7)
    assert [m["seq"] for m in got] == list(range(3, 11))[:7]
    assert [m["body"] for m in got] == [f"m{i}" for i in range(2, 9)]
    assert (await b.next("message"))["seq"] == 10
    # Nothing more arrives: no duplicate at the seam.
    with pytest.raises(TimeoutError):
        await b.next("message", within=0.5)
    await b.close()


async def test_without_resume_live_traffic_starts_after_last_seq(host, factory, client):
    case, clinician, specialist, _ = await _room(factory)
    url = f"{API}/cases/{case.id}/messages"
    await client.post(
        url, json={"body": "old", "client_msg_id": "o"}, headers=factory.headers(clinician)
    )
    b = await open_socket(host, f"/ws/cases/{case.id}", factory.token(specialist))
    await client.post(
        url, json={"body": "new", "client_msg_id": "n"}, headers=factory.headers(clinician)
    )
    got = await b.next("message")
    assert (got["seq"], got["body"]) == (2, "new")
    await b.close()


async def test_presence_typing_and_signal(host, factory, db):
    case, clinician, specialist, interpreter = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    b = await open_socket(host, f"/ws/cases/{case.id}", factory.token(specialist), after_seq=0)
    joined = await a.next("presence")
    assert joined["state"] == "joined" and joined["user_id"] == specialist.id
    present = await b.next("presence")
    assert present["state"] == "present"
    assert [u["user_id"] for u in present["users"]] == [clinician.id]
    c = await open_socket(host, f"/ws/cases/{case.id}", factory.token(interpreter), after_seq=0)

    await a.send({"type": "typing"})
    typing = await b.next("typing")
    assert typing == {"type": "typing", "user_id": clinician.id, "state": True}
    assert (await c.next("typing"))["user_id"] == clinician.id

    offer = {"sdp": "v=0 o=- 46117 2 IN IP4 127.0.0.1", "type": "offer"}
    await a.send({"type": "signal", "to": specialist.id, "data": offer})
    sig = await b.next("signal")
    assert sig["from"] == clinician.id and sig["data"] == offer
    # Only the addressee hears it, and nothing is stored.
    await a.send({"type": "ping"})
    await a.next("pong")
    assert not [f for f in c.frames if f["type"] == "signal"]
    assert not [f for f in a.frames if f["type"] == "signal"]
    assert await _stored(case.id) == []

    await c.close()
    left = await a.next("presence")
    while left["state"] != "left":
        left = await a.next("presence")
    assert left["user_id"] == interpreter.id
    await a.close()
    await b.close()


async def test_error_frames_keep_the_socket_open(host, factory):
    case, clinician, *_ = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    await a.send({"type": "dance"})
    assert (await a.next("error"))["code"] == "unknown-type"
    await a.send({"type": "message", "body": "", "client_msg_id": "x"})
    err = await a.next("error")
    assert err["code"] == "invalid-frame" and err["client_msg_id"] == "x"
    await a.send({"type": "signal", "to": clinician.id, "data": {}})
    assert (await a.next("error"))["code"] == "invalid-frame"
    await a.ws.send("not json")
    assert (await a.next("error"))["code"] == "unknown-type"
    for past_the_column in (2**31, 2**64, -1):  # issue 16: an error frame, not a crash
        await a.send({"type": "resume", "after_seq": past_the_column})
        assert (await a.next("error"))["code"] == "invalid-frame"
    await a.send({"type": "ping"})
    assert (await a.next("pong"))["type"] == "pong"
    await a.close()


async def test_a_case_status_change_reaches_the_room(host, factory):
    case, clinician, specialist, _ = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    async with sessionmaker()() as s:
        row = await s.get(Case, case.id)
        await transition(s, row, CaseStatus.answered, specialist.id)
        await s.commit()
    frame = await a.next("case")
    assert frame["status"] == "answered" and frame["previous_status"] == "assigned"
    assert frame["event"] == "case.answered"
    await a.close()


async def test_too_large_frame_closes(host, factory):
    case, clinician, *_ = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    await a.send({"type": "message", "body": "x" * 70_000, "client_msg_id": "big"})
    assert (await a.closed())[0] == 4413


async def test_an_expiring_token_disconnects_and_a_new_auth_frame_extends(host, factory):
    case, clinician, *_ = await _room(factory)
    short, _ = create_token(
        clinician.id,
        "access",
        timedelta(seconds=2),
        tv=clinician.token_version,
        role=clinician.role,
    )
    a = await open_socket(host, f"/ws/cases/{case.id}", short, after_seq=0)
    b = await open_socket(host, f"/ws/cases/{case.id}", short, after_seq=0)
    await b.send({"type": "auth", "token": factory.token(clinician)})
    assert (await b.next("auth"))["status"] == "ok"
    code, reason = await a.closed(within=6)
    assert code == 4401 and "expired" in reason
    await b.send({"type": "ping"})
    assert (await b.next("pong"))["type"] == "pong"
    await b.close()


async def test_a_removed_participant_is_disconnected(host, factory):
    case, clinician, specialist, interpreter = await _room(factory)
    c = await open_socket(host, f"/ws/cases/{case.id}", factory.token(interpreter), after_seq=0)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    async with sessionmaker()() as s:
        await s.execute(delete(CaseParticipant).where(CaseParticipant.case_id == case.id))
        await emit(
            s,
            "case.participant_removed",
            "case",
            case.id,
            organization_id=case.organization_id,
            payload={"user_id": interpreter.id},
        )
        await s.commit()
    assert (await c.closed())[0] == 4403
    await a.send({"type": "ping"})
    assert (await a.next("pong"))["type"] == "pong"
    await a.close()


async def test_origin_allowlist(host, factory):
    case, clinician, *_ = await _room(factory)
    with pytest.raises(InvalidStatus) as e:
        await open_socket(host, f"/ws/cases/{case.id}", None, origin="https://evil.example")
    assert e.value.response.status_code == 403
    a = await open_socket(
        host, f"/ws/cases/{case.id}", factory.token(clinician), origin=f"http://{host}", after_seq=0
    )
    await a.close()


async def test_idle_socket_that_ignores_pings_is_closed(host, factory, monkeypatch):
    from app.core.config import get_settings

    rs = get_settings()
    monkeypatch.setattr(rs, "ws_ping_interval_seconds", 0.3)
    monkeypatch.setattr(rs, "ws_ping_timeout_seconds", 0.3)
    case, clinician, *_ = await _room(factory)
    a = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    b = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)

    async def answer_pings():
        while True:
            if (await b.next())["type"] == "ping":
                await b.send({"type": "pong"})

    keeper = asyncio.create_task(answer_pings())
    code, _ = await a.closed(within=5)
    assert code == 4504
    assert [f for f in a.frames if f["type"] == "ping"]
    assert not keeper.done()  # the socket that answers stays open
    keeper.cancel()
    await b.close()


async def test_attack_a_read_only_api_client_cannot_post_in_the_room(host, factory):
    case, clinician, _, _ = await _room(factory)
    reader = await factory.make_client(case.organization_id, scopes=["cases:read"])
    sock = await open_socket(
        host,
        f"/ws/cases/{case.id}",
        factory.headers(reader)["Authorization"].split()[1],
        after_seq=0,
    )
    await sock.send({"type": "message", "body": "forged", "client_msg_id": "x1"})
    err = await sock.next("error")
    assert err["code"] == "insufficient-scope" and err["client_msg_id"] == "x1"
    assert await _stored(case.id) == []
    # The socket stays open and still reads the room.
    writer = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician))
    await writer.send({"type": "message", "body": "real", "client_msg_id": "c1"})
    assert (await sock.next("message"))["body"] == "real"


async def test_a_message_into_a_cancelled_cases_room_is_refused_and_said(host, factory):
    """A socket still open when the case is cancelled (another device, an app) sends into a
    room nobody answers now: the sender is told why, by its client_msg_id, and nothing is
    stored; the socket stays to read."""
    case, clinician, _, _ = await _room(factory)
    sock = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0)
    async with sessionmaker()() as s:
        row = await s.get(Case, case.id)
        await transition(s, row, CaseStatus.cancelled, clinician.id, reason="sent by mistake")
        await s.commit()
    assert (await sock.next("case"))["status"] == "cancelled"
    await sock.send({"type": "message", "body": "Are you there?", "client_msg_id": "late"})
    err = await sock.next("error")
    assert err["code"] == "case-cancelled" and err["client_msg_id"] == "late"
    assert "cancelled" in err["detail"]
    assert await _stored(case.id) == []
    await sock.close()
