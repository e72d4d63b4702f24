"""Several processes on one Redis: delivery across them, and surviving a Redis outage."""

import secrets

import httpx
from sqlalchemy import select

from app.consults.models import Message
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.realtime.support import API, RedisProcess, ServerProcess, open_socket, redis_url


async def _post(host: str, factory, who, case_id: str, body: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://{host}{API}") as c:
        r = await c.post(
            f"/cases/{case_id}/messages",
            json={"body": body, "client_msg_id": secrets.token_hex(8)},
            headers=factory.headers(who),
        )
    assert r.status_code == 201, r.text
    return int(r.json()["seq"])


async def _stored(case_id: str) -> list[tuple[int, str]]:
    async with sessionmaker()() as s:
        rows = (
            await s.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.seq))
        ).all()
    return [(m.seq, m.body) for m in rows]


async def _people(factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    return case, clinician, specialist


async def test_a_message_posted_on_one_process_reaches_a_socket_on_the_other(database_url, factory):
    url = redis_url()
    env = {"REDIS_URL": url, "WS_CHANNEL": "test:" + secrets.token_hex(4)}
    case, clinician, specialist = await _people(factory)
    async with ServerProcess(database_url, **env) as a, ServerProcess(database_url, **env) as b:
        on_b = await open_socket(
            b.host, f"/ws/cases/{case.id}", factory.token(specialist), after_seq=0
        )
        inbox_b = await open_socket(b.host, "/ws/inbox", factory.token(specialist))
        on_a = await open_socket(
            a.host, f"/ws/cases/{case.id}", factory.token(clinician), after_seq=0
        )
        # Presence crosses processes too: as her joining, or, when B's question of who is
        # there reaches A after she joined, as A's answer naming her (both seen here).
        frame = await on_b.next("presence")
        said = [frame] if frame["state"] == "joined" else frame["users"]
        assert clinician.id in [u["user_id"] for u in said], frame
        await _post(a.host, factory, clinician, case.id, "posted on A")
        got = await on_b.next("message")
        assert (got["seq"], got["body"]) == (1, "posted on A")
        assert (await inbox_b.next("event"))["event"] == "message.created"
        # And back, over a socket: typing and a WebRTC answer too.
        await on_b.send({"type": "message", "body": "from B", "client_msg_id": "b1"})
        assert (await on_a.next("message"))["seq"] in (1, 2)
        await on_b.send({"type": "signal", "to": clinician.id, "data": {"type": "answer"}})
        assert (await on_a.next("signal"))["data"] == {"type": "answer"}
        for c in (on_a, on_b, inbox_b):
            await c.close()


async def test_with_redis_stopped_each_process_serves_its_own_and_clients_catch_up(
    database_url, factory
):
    redis_url()  # the same rule as every Redis test: skipped without REDIS_URL, fails if it is down
    redis = RedisProcess()
    await redis.start()
    env = {"REDIS_URL": redis.url, "WS_CHANNEL": "test:outage"}
    case, clinician, specialist = await _people(factory)
    room = f"/ws/cases/{case.id}"
    try:
        async with ServerProcess(database_url, **env) as a, ServerProcess(database_url, **env) as b:
            on_a = await open_socket(a.host, room, factory.token(clinician), after_seq=0)
            on_b = await open_socket(b.host, room, factory.token(specialist), after_seq=0)
            await _post(a.host, factory, clinician, case.id, "m1")
            assert (await on_b.next("message"))["body"] == "m1"

            await redis.stop()
            # Each process keeps serving its own sockets.
            await _post(a.host, factory, clinician, case.id, "m2 (redis down)")
            assert (await on_a.next("message", within=5))["body"] in ("m1", "m2 (redis down)")
            await _post(b.host, factory, specialist, case.id, "m3 (redis down)")
            got_b = [m for m in on_b.frames if m["type"] == "message"]
            while not any(m["body"] == "m3 (redis down)" for m in got_b):
                got_b.append(await on_b.next("message", within=5))

            # Redis returns on the same port: the processes reconnect on their own. A
            # message posted before a process is back reaches its sockets by the catch-up
            # from the database that every reconnect makes; nothing waits for it here.
            await redis.start()
            await _post(a.host, factory, clinician, case.id, "m4 (redis back)")
            stored = await _stored(case.id)
            assert [s for s, _ in stored] == [1, 2, 3, 4]
            # Live sockets end with exactly the stored sequence, in order, once each.
            for sock in (on_a, on_b):
                while not any(m["type"] == "message" and m["seq"] == 4 for m in sock.frames):
                    await sock.next("message", within=10)
                seen = [(m["seq"], m["body"]) for m in sock.frames if m["type"] == "message"]
                assert seen == stored
            # And a client that dropped during the outage catches up by resume.
            late = await open_socket(b.host, room, factory.token(specialist), after_seq=1)
            caught = await late.messages(3)
            assert [(m["seq"], m["body"]) for m in caught] == stored[1:]
            for c in (on_a, on_b, late):
                await c.close()
    finally:
        await redis.stop()
