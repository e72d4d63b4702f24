"""Background work: in the app process by default, or standalone as `python -m app.worker`.

Each job is an async function taking no arguments that does one bounded pass and returns.
Domains declare theirs as `JOBS` in `app/<domain>/jobs.py`, found through the registry (the
worker never imports the web app); on PostgreSQL several workers may run the same job
because each job claims its rows with FOR UPDATE SKIP LOCKED.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.core import clock
from app.core.config import get_settings
from app.core.db import init_engine, sessionmaker
from app.core.idempotency import purge_expired
from app.core.registry import domain_modules, import_all_models
from app.events.service import load_listeners

log = logging.getLogger("app.worker")

Job = Callable[[], Awaitable[object]]


async def purge_idempotency_keys() -> None:
    async with sessionmaker()() as s:
        await purge_expired(s)
        await s.commit()


JOBS: dict[str, Job] = {"idempotency.purge": purge_idempotency_keys}


_discovered = False


def _discover() -> None:
    """Every domain's jobs, and its in-transaction listeners (a job's writes emit events)."""
    global _discovered
    import_all_models()  # every mapper known before the first query, as in the app
    for module in domain_modules("jobs"):
        jobs: dict[str, Job] = getattr(module, "JOBS", {})
        JOBS.update(jobs)
    load_listeners()
    _discovered = True


async def run_once() -> None:
    if not _discovered:
        _discover()
    for name, job in list(JOBS.items()):
        try:
            await job()
        except Exception:
            log.exception("job %s failed", name)


async def run_forever(stop: asyncio.Event | None = None) -> None:
    interval = get_settings().worker_interval_seconds
    stop = stop or asyncio.Event()
    while not stop.is_set():
        await run_once()
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    s = get_settings()
    clock.configure(s.clock_start, s.clock_speed)
    init_engine(s.database_url)
    _discover()
    asyncio.run(run_forever())


if __name__ == "__main__":
    main()
