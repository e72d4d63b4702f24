"""Background work: in the app process by default, or standalone as `python -m app.worker`.

Each job is an async function taking no arguments that does one bounded pass and returns.
Domains declare theirs as `JOBS` in `app/<domain>/jobs.py`, found through the registry (the
worker never imports the web app), and may declare `LOOPS`: coroutines that run for the
worker's life beside its ticks (the notification sender: a tick is too slow for an offer's
email), each given the worker's stop event; on PostgreSQL several workers may run the same job
because each job claims its rows with FOR UPDATE SKIP LOCKED.
"""

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from app.core import clock
from app.core.config import get_settings
from app.core.db import init_engine, unit_of_work
from app.core.idempotency import purge_expired
from app.core.observability import configure_logging
from app.core.registry import domain_modules, import_all_models
from app.events.service import load_listeners

log = logging.getLogger("app.worker")

Job = Callable[[], Awaitable[object]]
Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def purge_idempotency_keys() -> int:
    async with unit_of_work() as s:
        purged = await purge_expired(s)
        return purged


JOBS: dict[str, Job] = {"idempotency.purge": purge_idempotency_keys}
LOOPS: dict[str, Loop] = {}


_discovered = False


def _discover() -> None:
    """Every domain's jobs, and its in-transaction listeners (a job's writes emit events)."""
    global _discovered
    import_all_models()  # every mapper known before the first query, as in the app
    for module in domain_modules("jobs"):
        jobs: dict[str, Job] = getattr(module, "JOBS", {})
        JOBS.update(jobs)
        loops: dict[str, Loop] = getattr(module, "LOOPS", {})
        LOOPS.update(loops)
    load_listeners()
    _discovered = True


async def run_once() -> dict[str, object]:
    """One pass over every job; logs one line saying what each did (INFO when anything was
    done or failed, DEBUG for an idle pass) and returns it."""
    if not _discovered:
        _discover()
    done: dict[str, object] = {}
    failed: list[str] = []
    start = time.perf_counter()
    for name, job in list(JOBS.items()):
        try:
            result = await job()
        except Exception:
            failed.append(name)
            log.exception("job failed", extra={"fields": {"job": name}})
            continue
        # Counts (rows handled) and other plain figures; a job that returns nothing ran.
        if isinstance(result, int | float | bool | str) and result:
            done[name] = result
    fields = {
        "jobs": len(JOBS),
        "did": done,
        "failed": failed,
        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
    }
    log.log(
        logging.INFO if done or failed else logging.DEBUG, "worker pass", extra={"fields": fields}
    )
    return fields


async def run_forever(stop: asyncio.Event | None = None) -> None:
    interval = get_settings().worker_interval_seconds
    stop = stop or asyncio.Event()
    if not _discovered:
        _discover()
    loops = [asyncio.create_task(loop(stop), name=name) for name, loop in LOOPS.items()]
    try:
        while not stop.is_set():
            await run_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
    finally:
        stop.set()
        # Each loop ends its pass in progress and returns once it sees the stop event.
        await asyncio.gather(*loops, return_exceptions=True)


async def _until_sigterm() -> None:
    # SIGTERM (a deploy, `docker stop`) lets the pass in progress finish, then stops.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", extra={"fields": {"jobs": sorted(JOBS)}})
    await run_forever(stop)
    log.info("worker stopped")


def main() -> None:
    s = get_settings()
    configure_logging(s.log_format, s.log_level)
    clock.configure(s.clock_start, s.clock_speed, s.clock_anchor, s.clock_file)
    init_engine(s.database_url)
    _discover()
    asyncio.run(_until_sigterm())


if __name__ == "__main__":
    main()
