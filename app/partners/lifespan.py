"""In embedded mode the app runs the webhook dispatcher loop itself, polling every 50 ms:
the worker's one-second tick alone would put webhook latency near a second."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.core.config import get_settings
from app.partners.dispatcher import run


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not get_settings().run_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop))  # its own client: it connects to checked addresses
    try:
        yield
    finally:
        stop.set()
        await task
