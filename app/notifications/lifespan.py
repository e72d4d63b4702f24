"""In embedded mode the app runs its own sender loop, woken by every commit that wrote a
delivery (app.notifications.service.wake) and polling every NOTIFY_POLL_SECONDS: the
worker's one-second tick alone would put an offer's email a second or more away."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.core.config import get_settings
from app.notifications import sender
from app.notifications.channels import email
from app.notifications.service import wake

log = logging.getLogger("app.notifications")


async def run(stop: asyncio.Event) -> None:
    poll = get_settings().notify_poll_seconds
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(poll):
                await wake.wait()
        wake.clear()
        try:
            while await sender.send_due() >= sender.BATCH and not stop.is_set():
                pass
        except Exception:
            log.exception("notification sender pass failed; retrying")
    email.close_kept()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not get_settings().run_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop))
    try:
        yield
    finally:
        stop.set()
        wake.set()
        await task
