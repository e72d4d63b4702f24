"""How the simulation reaches the server and reads its clock.

`Api` is an httpx client that signs people in through POST /auth/token, sends their
requests with an Idempotency-Key on every POST, and times every request by route.

`Timeline` is the programme's clock, which the simulation steps from event to event.
"""

import os
import re
import time
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1"
_ID = re.compile(r"/([a-z]{2,5})_[0-9a-f]{16,}")
_START = re.compile(r"/occurrences/[^/]+")


def route_of(path: str) -> str:
    """The route template a path belongs to, for timing by route."""
    path = path.split("?", 1)[0].removeprefix(API)
    return _START.sub("/occurrences/{start}", _ID.sub(lambda m: f"/{{{m.group(1)}}}", path))


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status


class Api:
    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients  # one per API process; each person sticks to one
        self.http = clients[0]
        self.tokens: dict[str, str] = {}  # user id -> access token
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[int, int] = defaultdict(int)

    def _client(self, who: str) -> httpx.AsyncClient:
        return self.clients[sum(map(ord, who)) % len(self.clients)]

    async def sign_in(self, user_id: str, email: str, password: str) -> None:
        r = await self._client(user_id).post(
            API + "/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
        )
        if r.status_code != 200:
            raise ApiError(r.status_code, r.text)
        self.tokens[user_id] = r.json()["access_token"]

    async def call(
        self,
        who: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        headers: dict[str, str] | None = None,
        files: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        h = {"Authorization": f"Bearer {self.tokens[who]}", **(headers or {})}
        if method == "POST":
            h["Idempotency-Key"] = uuid.uuid4().hex
        t = time.perf_counter()
        r = await self._client(who).request(
            method, API + path, json=json, headers=h, files=files, params=params
        )
        self.timings[f"{method} {route_of(path)}"].append(time.perf_counter() - t)
        self.statuses[r.status_code] += 1
        if r.status_code not in ok:
            raise ApiError(r.status_code, r.text)
        return r


# Run after every event that needs them: new cases offered, lapsed offers passed down.
EVERY_STEP = ("matching.offer_new_cases", "matching.expire_offers")
# Not run at all: the daily digest (counts of what waits, per user per day) is part of no
# measure, and over a few hundred people a year of it costs more than the rest together;
# webhook fan-out and delivery, as no partner app subscribes in the simulated programme;
# the measures' catch-up, which GET /metrics/quality does itself when asked.
SKIPPED = (
    "notifications.digests",
    "partners.fanout",
    "partners.deliver",
    "reporting.case_timing",
)


class Timeline:
    """The programme's now, stepped by the simulation for every process at once.

    The simulation runs the worker's jobs and the notification sender itself (the API
    processes run none: RUN_WORKER=false, as beside a standalone `python -m app.worker`),
    with this process's clock frozen at the same instant; on the real server the API
    processes follow CLOCK_FILE, which `set` rewrites. Tests pass no file: the app in
    their process reads the same frozen clock.
    """

    def __init__(self, start: datetime, file: Path | None = None) -> None:
        from app.core.clock import clock

        self.clock, self.file = clock, file
        self.jobs_run = 0
        self.job_s: dict[str, float] = defaultdict(float)
        self.jobs_s = 0.0
        self.set(start)

    def now(self) -> datetime:
        return self.clock.now()

    def set(self, t: datetime) -> None:
        if self.file is not None:
            tmp = self.file.with_suffix(".tmp")
            tmp.write_text(t.isoformat())
            os.replace(tmp, self.file)
        self.clock.freeze(t)

    async def jobs(self, full: bool, offer_new: bool = True, expire: bool = True) -> None:
        """A worker pass at this instant: every job when `full`, else only matching's that
        are asked for (offer new cases; pass lapsed offers down), then whatever
        notifications are due."""
        from app import worker
        from app.notifications import sender

        t = time.perf_counter()
        if not worker._discovered:
            await worker.run_once()
        wanted = [offer_new, expire]
        step = [n for n, w in zip(EVERY_STEP, wanted, strict=True) if w]
        names = [n for n in worker.JOBS if n not in SKIPPED] if full else step
        for name in names:
            t1 = time.perf_counter()
            await worker.JOBS[name]()
            self.job_s[name] += time.perf_counter() - t1
        while await sender.send_due() >= sender.BATCH:
            pass
        self.jobs_run += 1
        self.jobs_s += time.perf_counter() - t
