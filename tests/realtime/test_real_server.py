"""What only a real server shows: close codes as a browser sees them, and a slow consumer."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.core.principal import Role
from tests.realtime.support import API, ServerProcess, open_socket


@pytest.fixture(scope="module")
async def server(database_url):
    async with ServerProcess(database_url, WS_AUTH_TIMEOUT_SECONDS="0.5", WS_SEND_QUEUE="8") as srv:
        yield srv


async def _close_code(server, path: str, *frames: str, origin: str | None = None):
    kw = {"origin": origin} if origin else {}
    async with connect(f"ws://{server.host}{API}{path}", compression=None, **kw) as ws:
        for f in frames:
            await ws.send(f)
        try:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None, e.rcvd.reason if e.rcvd else None


async def test_auth_rejections(server, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    outsider = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    offered = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id)
    await factory.make_offer(case.id, offered.id)
    room = f"/ws/cases/{case.id}"

    # Missing: the first frame is something else.
    code, reason = await _close_code(server, room, json.dumps({"type": "ping"}))
    assert code == 4400 and "auth" in reason
    # Late: nothing within WS_AUTH_TIMEOUT_SECONDS.
    assert (await _close_code(server, room))[0] == 4408
    # Invalid or expired token.
    for token in ("not-a-jwt", factory.token(clinician, minutes=-1)):
        frame = json.dumps({"type": "auth", "token": token})
        assert (await _close_code(server, room, frame))[0] == 4401
        assert (await _close_code(server, "/ws/inbox", frame))[0] == 4401
    # Valid token, but the caller may not see the case in full (no existence leak).
    for who in (outsider, offered):
        frame = json.dumps({"type": "auth", "token": factory.token(who)})
        assert (await _close_code(server, room, frame))[0] == 4404
    frame = json.dumps({"type": "auth", "token": factory.token(clinician)})
    assert (await _close_code(server, "/ws/cases/case_nope", frame))[0] == 4404
    # A page from another site never gets a socket: the handshake is refused.
    with pytest.raises(InvalidStatus) as e:
        await _close_code(server, room, frame, origin="https://attacker.example")
    assert e.value.response.status_code == 403
    # And the right person from the same host gets in.
    c = await open_socket(
        server.host, room, factory.token(clinician), origin=f"http://{server.host}"
    )
    assert c.ready["case_id"] == case.id
    await c.close()


async def test_a_slow_consumer_is_closed_and_resumes(server, factory, client):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=specialist.id)
    room = f"/ws/cases/{case.id}"
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "before", "client_msg_id": "b"},
        headers=factory.headers(clinician),
    )
    assert r.status_code == 201
    # The specialist's client stops reading (its library buffers one frame at most).
    slow = await open_socket(server.host, room, factory.token(specialist), after_seq=1, max_queue=1)
    fast = await open_socket(server.host, room, factory.token(clinician), after_seq=1)
    data = {"candidate": "x" * 30_000}
    for _ in range(600):  # ~18 MB of WebRTC signals, more than the kernel buffers
        await fast.send({"type": "signal", "to": specialist.id, "data": data})
    await fast.send({"type": "message", "body": "after", "client_msg_id": "a"})
    assert (await fast.next("ack"))["seq"] == 2
    code, reason = await slow.closed(within=30)
    assert code == 4429 and "resume" in reason
    # The fast socket was never held back.
    await fast.send({"type": "ping"})
    await fast.next("pong")
    # Later the client resumes from what it has, and misses nothing.
    again = await open_socket(server.host, room, factory.token(specialist), after_seq=1)
    assert (await again.next("message"))["body"] == "after"
    await again.close()
    await fast.close()
