"""Messages to a participant who is not there are gathered into one email per case per
quarter hour, never one per message; the daily digest comes in each user's own morning."""

import asyncio
from datetime import timedelta

from app.core.db import new_id
from app.core.principal import Role
from app.notifications import jobs
from app.notifications.kinds import Kind
from tests.notifications.support import API, send_all, text_of
from tests.specialists.support import make_specialist


async def _conversation(factory):
    org = await factory.make_org(country="NP", timezone="Asia/Kathmandu")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=spec.id, submitted_by_id=clin.id)
    return clin, spec, case


async def _say(client, factory, who, case, i):
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": f"Finding {i}: the lesion is 4 cm", "client_msg_id": f"m-{i}"},
        headers=factory.headers(who),
    )
    assert r.status_code == 201, r.text


async def test_500_messages_in_ten_minutes_to_an_offline_participant_make_one_email(
    client, factory, smtp, clock
):
    clin, spec, case = await _conversation(factory)
    for i in range(500):
        await _say(client, factory, spec, case, i)
        clock.advance(timedelta(seconds=1.2))  # 500 messages over ten minutes
        if i % 100 == 0:  # the worker keeps running meanwhile: nothing is due yet
            await jobs.gathered_messages()
            assert await send_all() == 0
    clock.advance(timedelta(minutes=5, seconds=1))  # a quarter hour after the first
    await jobs.gathered_messages()
    assert await send_all() == 1
    [mail] = smtp.to(clin.email)
    assert "500 new message(s)" in mail["Subject"]
    assert "lesion" not in mail.as_string() and case.patient_reference not in mail.as_string()
    assert f"https://consult.example.org/cases/{case.id}" in text_of(mail)
    assert smtp.to(spec.email) == []  # the writer is not told of their own messages
    await jobs.gathered_messages()
    assert await send_all() == 0
    # The next message opens a new window.
    await _say(client, factory, spec, case, 500)
    clock.advance(timedelta(minutes=15))
    await jobs.gathered_messages()
    assert await send_all() == 1
    assert "1 new message(s)" in smtp.to(clin.email)[-1]["Subject"]


async def test_a_participant_who_answers_was_there(client, factory, smtp, clock):
    clin, spec, case = await _conversation(factory)
    await _say(client, factory, spec, case, 1)
    await _say(client, factory, clin, case, 2)  # the clinician answers: they are there
    clock.advance(timedelta(minutes=16))
    await jobs.gathered_messages()
    await send_all()
    assert smtp.to(clin.email) == []
    assert len(smtp.to(spec.email)) == 1  # the specialist did not answer the reply


async def test_the_digest_comes_in_the_users_own_morning_once_a_day(client, factory, smtp, clock):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.core.db import sessionmaker
    from app.notifications.models import Notification

    spec = await make_specialist(factory, timezone="Asia/Kathmandu")
    case = await factory.make_case((await factory.make_org()).id)
    await factory.make_offer(case.id, spec.id, expires_at=clock.now() + timedelta(days=3))
    idle = await make_specialist(factory, timezone="America/Lima")  # nothing waits for them
    await jobs.digests()
    assert await send_all() == 0  # scheduled for the next morning, not sent at once
    local = clock.now().astimezone(ZoneInfo("Asia/Kathmandu"))
    seven = datetime.combine(local.date(), datetime.min.time().replace(hour=7)).replace(
        tzinfo=ZoneInfo("Asia/Kathmandu")
    )
    if seven <= local:
        seven += timedelta(days=1)
    clock.set(seven.astimezone(UTC) - timedelta(minutes=1))
    await jobs.digests()
    assert await send_all() == 0
    clock.set(seven.astimezone(UTC))
    await jobs.digests()
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    assert "Pending offers: 1" in text_of(mail)
    clock.advance(timedelta(hours=3))
    await jobs.digests()
    assert await send_all() == 0  # once a day
    clock.advance(timedelta(days=2))
    await jobs.digests()
    assert smtp.to(idle.email) == []
    async with sessionmaker()() as s:
        from sqlalchemy import select

        kinds = (
            await s.scalars(select(Notification.kind).where(Notification.user_id == spec.id))
        ).all()
    assert list(kinds).count(Kind.digest.value) == 2  # that day, and the next morning after


async def _away(case_id: str, user_id: str) -> None:
    """Until the server has seen the socket close (its `finally` leaves the room)."""
    from app.realtime import presence

    for _ in range(500):
        if not await presence.in_room(case_id, [user_id]):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("still in the room after the socket closed")


async def test_offline_means_no_socket_open_in_the_room(app, client, factory, smtp, clock):
    from app.realtime import presence
    from tests.realtime.support import inprocess_server, open_socket

    clin, spec, case = await _conversation(factory)
    async with inprocess_server(app) as host:
        room = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clin), after_seq=0)
        assert await presence.in_room(case.id, [clin.id, spec.id]) == {clin.id}
        # The clinician has the room open (and writes nothing): not offline, no email.
        for i in range(3):
            await _say(client, factory, spec, case, i)
        clock.advance(timedelta(minutes=16))
        await jobs.gathered_messages()
        assert await send_all() == 0 and smtp.to(clin.email) == []
        await room.close()
        await _away(case.id, clin.id)
    # Socket closed: offline now; what follows is gathered into one email.
    for i in range(3, 5):
        await _say(client, factory, spec, case, i)
    clock.advance(timedelta(minutes=16))
    await jobs.gathered_messages()
    assert await send_all() == 1
    [mail] = smtp.to(clin.email)
    assert "2 new message(s)" in mail["Subject"]


async def test_a_participant_back_in_the_room_before_the_window_closes_gets_no_email(
    app, client, factory, smtp, clock
):
    from tests.realtime.support import inprocess_server, open_socket

    clin, spec, case = await _conversation(factory)
    await _say(client, factory, spec, case, 1)  # the clinician is away: a window opens
    async with inprocess_server(app) as host:
        room = await open_socket(host, f"/ws/cases/{case.id}", factory.token(clin), after_seq=0)
        clock.advance(timedelta(minutes=16))
        await jobs.gathered_messages()  # they are reading it in the room now
        assert await send_all() == 0
        await room.close()
        await _away(case.id, clin.id)
    assert smtp.to(clin.email) == []


async def test_presence_is_shared_across_processes_through_redis():
    from app.realtime.presence import RedisPresence
    from tests.realtime.support import redis_url

    url = redis_url()
    ns = f"consult:test:presence:{new_id('p')}"
    app_a = RedisPresence(url, ns, lambda _case: set())  # two processes' views
    app_b = RedisPresence(url, ns, lambda _case: set())
    try:
        assert await app_b.in_room("case_1", ["u1", "u2"]) == set()
        await app_a.enter("case_1", "u1", "conn_a")
        assert await app_b.in_room("case_1", ["u1", "u2"]) == {"u1"}
        assert await app_b.in_room("case_2", ["u1"]) == set()  # per case
        await app_a.enter("case_1", "u1", "conn_a2")  # a second tab
        await app_a.leave("case_1", "u1", "conn_a")
        assert await app_b.in_room("case_1", ["u1"]) == {"u1"}
        await app_a.leave("case_1", "u1", "conn_a2")
        assert await app_b.in_room("case_1", ["u1"]) == set()
        # A process that died without leaving: its entry lapses after TTL real seconds.
        await app_a._redis.zadd(f"{ns}:presence:case_1", {"u2 conn_dead": 0})
        assert await app_b.in_room("case_1", ["u2"]) == set()
    finally:
        await app_a.stop()
        await app_b.stop()
