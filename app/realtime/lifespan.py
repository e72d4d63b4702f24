"""Runs the live hub for the app's lifetime: pub/sub, the outbox relay, the access sweep."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.core.config import get_settings
from app.events import relay as outbox_relay
from app.realtime import presence
from app.realtime.hub import Hub
from app.realtime.presence import Presence, RedisPresence
from app.realtime.pubsub import make_pubsub


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    rs = get_settings()
    hub = Hub(
        make_pubsub(get_settings().redis_url, rs.ws_channel),
        queue_limit=rs.ws_send_queue,
        resume_wait=rs.ws_resume_wait_seconds,
    )
    # Who is in which room, for the notifier: this process's sockets, and with Redis every
    # process's (app/realtime/presence.py).
    local = lambda case_id: set(hub.local_users(case_id))  # noqa: E731
    here = RedisPresence(rs.redis_url, rs.ws_channel, local) if rs.redis_url else Presence(local)
    await hub.start()
    await here.start()
    presence.install(here)
    app.state.hub = hub
    relay = outbox_relay.Relay(
        hub.publish_events,
        poll_seconds=rs.ws_relay_poll_seconds,
        grace_seconds=rs.ws_relay_grace_seconds,
    )
    outbox_relay.install(relay)
    await relay.start()
    sweep = asyncio.create_task(hub.sweep_forever(rs.ws_recheck_seconds))
    # Fan-out allocates many short-lived objects; measured (docs/consults.md), the cyclic
    # GC walking every start-up object (SQLAlchemy, pydantic, routes) on each older-
    # generation pass was a large share of delivery p99. Freeze what start-up built, and
    # collect the young generation less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(rs.ws_gc_gen0_threshold, 10, 10)
    try:
        yield
    finally:
        sweep.cancel()
        with contextlib.suppress(BaseException):
            await sweep
        outbox_relay.install(None)
        await relay.stop()
        presence.install(None)
        await hub.stop()
        await here.stop()
