"""A slow consumer is closed with 4429, a close frame it can act on, however late it reads."""

import asyncio

from app.core.principal import Role
from tests.realtime.support import inprocess_server, open_socket
from tests.timing import advance_loop


async def test_fault_a_consumer_that_stops_reading_gets_4429_when_it_reads_again(
    app, factory, monkeypatch
):
    """The queue fills while the socket's transport is already full: the close frame must
    wait behind what is on its way. It used to be given up after 5 s, and the client saw
    the connection drop without one (1006)."""
    monkeypatch.setattr(app.state.hub, "queue_limit", 64)  # as WS_SEND_QUEUE=64 would
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=specialist.id)
    room = f"/ws/cases/{case.id}"
    async with inprocess_server(app) as host:
        slow = await open_socket(host, room, factory.token(specialist), after_seq=0, max_queue=1)
        fast = await open_socket(host, room, factory.token(clinician), after_seq=0)
        data = {"candidate": "x" * 30_000}
        for _ in range(1500):  # ~45 MB, paced so that the kernel's buffers fill first
            await fast.send({"type": "signal", "to": specialist.id, "data": data})
            await asyncio.sleep(0.001)
        await fast.send({"type": "message", "body": "after", "client_msg_id": "a"})
        assert (await fast.next("ack", within=30))["seq"] == 1
        advance_loop(6)  # the slow client reads nothing for 6 s (of the loop's clock)
        code, reason = await slow.closed(within=30)
        assert (code, reason) == (4429, "too slow to receive: reconnect and resume")
        again = await open_socket(host, room, factory.token(specialist), after_seq=0)
        assert (await again.next("message"))["body"] == "after"
        await again.close()
        await fast.close()
