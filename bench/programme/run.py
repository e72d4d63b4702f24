"""One simulated run, from an empty database to its measures, on the real server or (tests)
on the app in this process."""

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.harness import SECRET
from bench.programme import network
from bench.programme.clients import Api, Timeline
from bench.programme.model import Params
from bench.programme.sim import Simulation

# The programme's first day: a Monday, so that weeks are calendar weeks.
START = datetime(2027, 1, 4, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def quality(api: Api, start: datetime, end: datetime) -> dict[str, Any]:
    params = {"from": iso(start), "to": iso(end)}
    return dict((await api.call("admin", "GET", "/metrics/quality", params=params)).json())


async def collect(api: Api, sim: Simulation, p: Params, start: datetime) -> dict[str, Any]:
    """The measures: /metrics/quality for the whole run and week by week, and what the
    simulation saw in the server's answers (per-case timings, first offers)."""
    end = start + timedelta(weeks=p.weeks)
    whole = await quality(api, start, end)
    weekly = []
    for w in range(p.weeks):
        a = start + timedelta(weeks=w)
        q = await quality(api, a, a + timedelta(weeks=1))
        weekly.append({"week": w + 1, **_short(q)})
    first_offer: dict[str, datetime] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await api.call("admin", "GET", "/offers", params=params)).json()
        for o in page["items"]:
            t = datetime.fromisoformat(o["created_at"])
            if o["case_id"] not in first_offer or t < first_offer[o["case_id"]]:
                first_offer[o["case_id"]] = t
        cursor = page.get("next_cursor")
        if not cursor:
            break
    cases = []
    for c in sim.cases.values():

        def hours(t: datetime | None, c: Any = c) -> float | None:
            return None if t is None else round((t - c.created_at).total_seconds() / 3600, 3)

        cases.append(
            {
                "urgency": c.sub.urgency,
                "specialty": c.sub.specialty,
                "facility": c.sub.facility.key,
                "week": (c.created_at - start).days // 7 + 1,
                "allocation_h": hours(first_offer.get(c.id)),
                "accept_h": hours(c.assigned_at),
                "first_response_h": hours(c.first_response_at),
                "signed_h": hours(c.signed_at),
            }
        )
    t = sim.tally
    return {
        "quality": whole,
        "weekly": weekly,
        "cases": cases,
        "tally": {k: v for k, v in vars(t).items() if k != "errors"},
        "errors": t.errors,
        "client_requests": sum(len(v) for v in api.timings.values()),
        "client_p99_ms": {
            r: round(sorted(v)[int(0.99 * (len(v) - 1))] * 1000, 1) for r, v in api.timings.items()
        },
        "client_statuses": dict(api.statuses),
    }


def _short(q: dict[str, Any]) -> dict[str, Any]:
    fr = q.get("time_to_first_response") or {}
    return {
        "cases": q["cases_submitted"],
        "first_response_median_h": _h(fr.get("median_minutes")),
        "accept_median_h": _h(q["time_to_accept"]["median_minutes"]),
        "within_72h": q.get("answered_within_72h_rate"),
        "unmatched": q["unmatched"],
    }


def _h(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


async def on_server(
    p: Params, db: str, snapshot_weeks: int = 0, progress: bool = True
) -> dict[str, Any]:
    """Build the network and replay `p.weeks` weeks on the real server (its API processes
    following the clock file this process steps); `snapshot_weeks` also measures the first
    weeks at that point (the what-ifs' baseline)."""
    from app.core.config import get_settings
    from app.core.db import dispose_engine, init_engine
    from bench.programme.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, scrape

    server = Server(db)
    await asyncio.to_thread(server.create)
    out: dict[str, Any] = {"params": _params(p)}
    clock_file = server.workdir / "programme-now"
    try:
        # This process is the worker: the same settings as the API processes.
        os.environ.update({k: v for k, v in server.env.items() if k.isupper()})
        get_settings.cache_clear()
        init_engine(server.url)
        tl = Timeline(START - timedelta(days=1), clock_file)
        t0 = time.perf_counter()
        await asyncio.to_thread(server.start, {"CLOCK_FILE": str(clock_file)})
        async with _clients(server.bases) as clients:
            api = Api(clients)
            net = await network.build(api, p, START, ADMIN_EMAIL, ADMIN_PASSWORD)
            await tl.jobs(full=True)
            for f in server.mail_dir.glob("*.eml"):
                f.unlink()
            out["setup_s"] = round(time.perf_counter() - t0, 1)
            sim = Simulation(api, net, p, tl, START, server.mail_dir, progress=progress)
            if snapshot_weeks:
                cut = START + timedelta(weeks=snapshot_weeks)

                async def snap() -> None:
                    out["snapshot"] = await quality(api, START, cut)

                sim.at(cut, snap)
            t1, cpu1, srv1 = time.perf_counter(), time.process_time(), server.cpu_seconds()
            await sim.run()
            out["run_s"] = round(time.perf_counter() - t1, 1)
            out["cpu_s"] = {
                "server": round(server.cpu_seconds() - srv1, 1),
                "simulation_and_worker": round(time.process_time() - cpu1, 1),
            }
            out["worker"] = {
                "passes": tl.jobs_run,
                "seconds": round(tl.jobs_s, 1),
                "by_job_s": {k: round(v, 2) for k, v in tl.job_s.items()},
            }
            out.update(await collect(api, sim, p, START))
            out["server"] = await scrape(server.bases) | {
                "db_bytes": await server.db_bytes(),
                "processes": len(server.bases),
                "database": db,
            }
    finally:
        tl.clock.follow(None)
        tl.clock.run()
        await dispose_engine()
        await asyncio.to_thread(server.close)
    return out


def _params(p: Params) -> dict[str, Any]:
    return vars(p) | {"urgency_mix": dict(p.urgency_mix)}


async def in_process(app: Any, p: Params, mail_dir: Path) -> dict[str, Any]:
    """The same run against the app in this process (tests)."""
    from app.core.config import get_settings
    from app.core.principal import Role
    from tests.factories import Factory

    tl = Timeline(START - timedelta(days=1))
    admin = await Factory().make_user(Role.admin, password="admin-password-1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        api = Api([client])
        net = await network.build(api, p, START, admin.email, "admin-password-1")
        await tl.jobs(full=True)
        sim = Simulation(api, net, p, tl, START, mail_dir)
        await sim.run()
        out = await collect(api, sim, p, START)
    out["params"] = _params(p)
    out["server"] = {"database": "sqlite" if get_settings().is_sqlite else "postgresql"}
    return out


class _clients:  # noqa: N801 - a context manager over one client per process
    def __init__(self, bases: list[str]) -> None:
        self.list = [httpx.AsyncClient(base_url=b, timeout=60) for b in bases]

    async def __aenter__(self) -> list[httpx.AsyncClient]:
        return self.list

    async def __aexit__(self, *exc: object) -> None:
        for c in self.list:
            await c.aclose()


def what_ifs(p: Params, db: str, weeks: int) -> dict[str, dict[str, Any]]:
    """The what-if runs, `weeks` each, one after the other (in a process of their own: this
    process becomes each run's worker)."""
    os.environ.update({"SECRET_KEY": SECRET, "ENVIRONMENT": "test", "DEMO_DATA": "false"})
    short = p.what_if(weeks=weeks)
    out: dict[str, dict[str, Any]] = {}
    for name, q in {
        "half the specialists": short.what_if(specialists=p.specialists // 2),
        "notifications off": short.what_if(notifications=False),
        "no interpreter": short.what_if(interpreters=False),
    }.items():
        print(f"# what if: {name} ({weeks} weeks)", flush=True)
        out[name] = asyncio.run(on_server(q, db, progress=False))
        print(f"  what if {name}: run {out[name]['run_s']} s", flush=True)
    return out
