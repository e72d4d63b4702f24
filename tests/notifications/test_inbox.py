"""A new notification is also pushed on the user's /ws/inbox, after the commit."""

import gc
import inspect
from collections import Counter

import pytest

from app.core.principal import Role
from tests.notifications.support import API
from tests.realtime.support import inprocess_server, open_socket
from tests.specialists.support import make_specialist


@pytest.fixture
async def host(app):
    async with inprocess_server(app) as h:
        yield h


async def test_a_new_notification_reaches_the_open_inbox(app, host, factory, client):
    spec = await make_specialist(factory)
    bystander = await make_specialist(factory)
    inbox = await open_socket(host, "/ws/inbox", factory.token(spec))
    other = await open_socket(host, "/ws/inbox", factory.token(bystander))
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id, languages=["en"])
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"specialist_ids": [spec.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    try:
        while True:
            ev = await inbox.next("event")
            if ev["event"] == "notification.created":
                break
    except TimeoutError:
        # Seen a few times in loaded two-worker runs and never reproduced: say what the
        # socket got and what the outbox held, so the next failure explains itself.
        # Caught once so (2026-12-04): only `ready` came, and the three outbox rows were
        # still unpublished 5 s later, so the relay never handed them over. Its state says
        # whether it was missing, dead, stuck or never told.
        raise AssertionError(
            f"no notification.created for {spec.id}; frames: {inbox.frames}; "
            f"outbox: {await _outbox()}; relay: {_relay_state()}; "
            f"inbox sockets of the user: {len(app.state.hub.inbox_users.get(spec.id, ()))}"
        ) from None
    assert ev["payload"]["kind"] == "offer" and ev["payload"]["link"].endswith(
        r.json()["items"][0]["id"]
    )
    listed = (await client.get(f"{API}/notifications", headers=factory.headers(spec))).json()
    assert ev["payload"]["notification_id"] == listed["items"][0]["id"]
    assert not [f for f in other.frames if f.get("event") == "notification.created"], other.frames
    await inbox.close()
    await other.close()


def _relay_state() -> dict[str, object]:
    from app.events import relay as outbox_relay

    r = outbox_relay._relay
    if r is None:
        return {"installed": False}
    task = r._task
    done = task is not None and task.done()
    return {
        "installed": True,
        "task_done": done,
        "task_error": repr(task.exception()) if done and not task.cancelled() else None,
        "pending": len(r._pending),
        # Caught so twice (2026-12-04 23:37, 23:43): the task alive, 600-700 events pending
        # from many tests (the app is the session's), the wake flag set, the task waiting
        # for a pooled connection to mark rows. Publishing no longer waits for that.
        "pending_kinds": Counter(e["type"] for e in r._pending).most_common(5),
        "pending_ids": sorted(e["id"] for e in r._pending)[:3]
        + sorted(e["id"] for e in r._pending)[-3:],
        "waiting_at": _awaiting(task.get_coro()) if task is not None and not done else None,
        # The bookkeeping task (marking, the stale poll), apart from publishing since then.
        "keeper_waiting_at": _awaiting(r._keeper.get_coro())
        if r._keeper is not None and not r._keeper.done()
        else None,
        "unmarked": list(r._unmarked),
        "wake_set": r._wake.is_set(),
    }


def _awaiting(coro: object) -> list[str]:
    """The chain of awaits a suspended coroutine is waiting in, outermost first."""
    chain = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            where = frame.f_code.co_filename.rsplit("/", 2)[-1]
            chain.append(f"{where}:{frame.f_lineno} {frame.f_code.co_name}")
        else:
            chain.append(repr(coro)[:120])  # a future, an async generator's step
            # An async generator's step (`async with unit_of_work()`) keeps its generator.
            gens = [g for g in gc.get_referents(coro) if inspect.isasyncgen(g)]
            if gens:
                coro = gens[0]
                continue
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return chain


async def _outbox() -> list[tuple[object, ...]]:
    from sqlalchemy import text

    from app.core.db import unit_of_work

    async with unit_of_work() as s:
        rows = await s.execute(
            text("SELECT id, type, audience, published_at FROM outbox_event ORDER BY id")
        )
        return [tuple(r) for r in rows.all()]
