"""Live room benchmark: delivery latency of one message to every socket of a room, and the
memory of idle authenticated sockets, beside a bare FastAPI relay measured in the same run.

    .venv/bin/python -m bench.ws_fanout                  # everything (about 4 minutes)
    .venv/bin/python -m bench.ws_fanout --quick          # smaller rooms, fewer sockets
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres REDIS_URL=... ...

What the app does per message, and the baseline does not: the sender is authenticated, the
message is numbered and stored with its outbox event and audit row in one transaction,
the relay publishes it after commit, and the hub fans it out (through Redis in the
two-process runs). Latency is measured from just before the sender's frame leaves to the
moment each receiving socket has it, on one clock (the load generator's), so it includes
the load generator's own time on the two shared cores.
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-" + "x" * 32
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    ws_impl = "auto"  # uvicorn's --ws, the same for every server of a run

    def __init__(self, app: str, env: dict[str, str], deflate: bool) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--ws-per-message-deflate",
                "true" if deflate else "false",
                "--backlog",
                "4096",
                "--ws",
                self.ws_impl,
            ],
            cwd=ROOT,
            env=env,
        )
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{app} exited at start-up")
            time.sleep(0.2)
        raise RuntimeError(f"{app} did not start")

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- data ------------------------------------------------------------------------------------


async def seed(url: str, rooms: int) -> dict[str, Any]:
    from app.auth.models import User
    from app.cases.models import Case
    from app.core.db import dispose_engine, init_engine, sessionmaker, utcnow
    from app.core.principal import Role
    from app.core.security import create_token
    from app.organizations.models import Organization

    init_engine(url)
    async with sessionmaker()() as s:
        org = Organization(
            name="Bench clinic",
            country="KE",
            timezone="Africa/Nairobi",
            languages=["en"],
            local_resources={},
        )
        s.add(org)
        await s.flush()
        coord = User(email="coord@bench.org", name="Coordinator", role=Role.coordinator.value)
        clin = User(
            email="clin@bench.org",
            name="Clinician",
            role=Role.clinician.value,
            organization_id=org.id,
        )
        spec = User(email="spec@bench.org", name="Specialist", role=Role.specialist.value)
        s.add_all([coord, clin, spec])
        await s.flush()
        cases = []
        for i in range(rooms):
            c = Case(
                organization_id=org.id,
                specialty="dermatology",
                urgency="routine",
                question=f"bench {i}",
                patient_reference=f"B-{i}",
                languages=["en"],
                consent_method="verbal",
                respond_by=utcnow() + timedelta(days=3),
                status="assigned",
                assigned_specialist_id=spec.id,
                assigned_at=utcnow(),
                submitted_by_id=clin.id,
            )
            s.add(c)
            cases.append(c)
        await s.commit()

        def tok(u: User) -> str:
            return create_token(
                u.id, "access", timedelta(hours=3), tv=u.token_version, role=u.role
            )[0]

        data = {"cases": [c.id for c in cases], "listener": tok(coord), "sender": tok(clin)}
    await dispose_engine()
    return data


def make_database(workdir: Path) -> tuple[str, str | None]:
    env_url = os.environ.get("DATABASE_URL", "")
    if env_url.startswith("postgresql"):
        name = f"bench_ws_{secrets.token_hex(3)}"
        admin = env_url.replace("+asyncpg", "").rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        return env_url.rsplit("/", 1)[0] + "/" + name, name
    return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None


def drop_database(name: str | None) -> None:
    if name:
        admin = os.environ["DATABASE_URL"].replace("+asyncpg", "").rsplit("/", 1)[0]
        subprocess.run(
            ["psql", admin + "/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )


# --- load --------------------------------------------------------------------------------------


async def open_many(
    urls: list[str], first: str | None, deflate: bool, concurrency: int = 100
) -> list[ClientConnection]:
    sem = asyncio.Semaphore(concurrency)

    async def one(url: str) -> ClientConnection:
        async with sem:
            ws = await connect(
                url,
                compression="deflate" if deflate else None,
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
            )
            if first is not None:
                await ws.send(first)
                while json.loads(await ws.recv())["type"] != "ready":
                    pass
            return ws

    return list(await asyncio.gather(*(one(u) for u in urls)))


async def fanout(
    listeners: list[ClientConnection],
    sender: ClientConnection,
    app: bool,
    messages: int,
    gap: float,
) -> list[float]:
    """Send `messages` messages, one at a time; latency (ms) of every delivery."""
    latencies: list[float] = []
    pending: dict[str, float] = {}
    done = asyncio.Event()
    expected = messages * len(listeners)

    async def listen(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                raw = await ws.recv()
                now = time.perf_counter()
                if app:
                    if '"type":"message"' not in raw:
                        continue
                    key = json.loads(raw)["body"]
                else:
                    key = raw
                t0 = pending.get(key)
                if t0 is not None:
                    latencies.append((now - t0) * 1000)
                    if len(latencies) >= expected:
                        done.set()

    readers = [asyncio.create_task(listen(ws)) for ws in listeners]
    drain = asyncio.create_task(_discard(sender))
    await asyncio.sleep(1.0)
    # Warm-up, not measured (first-use costs: statement caches, lazy imports, Redis links).
    for i in range(3):
        key = f"warm-{secrets.token_hex(4)}-{i}"
        await sender.send(
            json.dumps({"type": "message", "body": key, "client_msg_id": key}) if app else key
        )
        await asyncio.sleep(gap)
    await asyncio.sleep(0.5)
    for i in range(messages):
        key = f"bench-{secrets.token_hex(4)}-{i}"
        pending[key] = time.perf_counter()
        frame = json.dumps({"type": "message", "body": key, "client_msg_id": key}) if app else key
        await sender.send(frame)
        await asyncio.sleep(gap)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await done.wait()
    for t in [*readers, drain]:
        t.cancel()
    return latencies


async def _discard(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        while True:
            await ws.recv()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def close_all(socks: list[ClientConnection]) -> None:
    await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)


# --- scenarios ---------------------------------------------------------------------------------


async def room_run(
    hosts: list[str], data: dict[str, Any], size: int, messages: int, deflate: bool, gap: float
) -> dict[str, float]:
    case = data["cases"][0]
    urls = [f"ws://{hosts[i % len(hosts)]}{API}/ws/cases/{case}" for i in range(size)]
    auth = json.dumps({"type": "auth", "token": data["listener"]})
    listeners = await open_many(urls, auth, deflate)
    sender = (
        await open_many(
            [f"ws://{hosts[0]}{API}/ws/cases/{case}"],
            json.dumps({"type": "auth", "token": data["sender"]}),
            deflate,
        )
    )[0]
    lat = await fanout(listeners, sender, True, messages, gap)
    await close_all([*listeners, sender])
    return {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat), "expected": messages * size}


async def bare_run(
    host: str, size: int, messages: int, deflate: bool, gap: float
) -> dict[str, float]:
    socks = await open_many([f"ws://{host}/room"] * (size + 1), None, deflate)
    lat = await fanout(socks[:-1], socks[-1], False, messages, gap)
    await close_all(socks)
    # The bare room echoes to the sender too; it is left out of the figures.
    return {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat), "expected": messages * size}


async def idle_run(
    host: str, pid: int, data: dict[str, Any], count: int, deflate: bool, app: bool
) -> dict[str, float]:
    before = rss_mb(pid)
    if app:
        cases = data["cases"]
        urls = [f"ws://{host}{API}/ws/cases/{cases[i % len(cases)]}" for i in range(count)]
        first = json.dumps({"type": "auth", "token": data["listener"]})
    else:
        urls, first = [f"ws://{host}/room"] * count, None
    t0 = time.perf_counter()
    socks = await open_many(urls, first, deflate, concurrency=200)
    opened = time.perf_counter() - t0
    drains = [asyncio.create_task(_discard(s)) for s in socks]
    await asyncio.sleep(3)
    after = rss_mb(pid)
    for d in drains:
        d.cancel()
    await close_all(socks)
    return {
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_socket": (after - before) * 1024 / count,
        "open_s": opened,
    }


def fmt(r: dict[str, float]) -> str:
    lost = r["expected"] - r["n"]
    return f"p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms" + (
        f"  ({lost:.0f} deliveries missing!)" if lost else ""
    )


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    url, pg_name = make_database(workdir)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "ENVIRONMENT": "production",
        "RUN_WORKER": "false",
        "DEMO_DATA": "false",
        "WS_CHANNEL": "bench:" + pg_name if pg_name else "bench:" + secrets.token_hex(4),
    }
    env.pop("REDIS_URL", None)
    os.environ.update(
        {
            "SECRET_KEY": SECRET,
            "ENVIRONMENT": "production",
            "RATE_LIMIT_REQUESTS": "1000000000",  # measured, never the limit
        }
    )
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    await asyncio.to_thread(command.upgrade, cfg, "heads")  # alembic runs its own loop
    data = await seed(url, rooms=100)
    sizes = args.sizes or ([50, 200] if args.quick else [200, 1000])
    idle = 1000 if args.quick else args.idle
    redis_url = os.environ.get("REDIS_URL")
    rows: list[str] = []

    def show(line: str) -> None:
        print(line, flush=True)
        rows.append(line)

    show(
        f"live room benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores, {'PostgreSQL' if pg_name else 'SQLite'}, "
        f"{args.messages} messages per room, {args.gap * 1000:.0f} ms apart"
    )
    try:
        for deflate in [] if args.redis_only else [False, True] if args.deflate else [False]:
            tag = "deflate on " if deflate else "deflate off"
            bare = Server("bench.ws_baseline:app", env, deflate)
            app = Server("app.main:app", env, deflate)
            try:
                for size in [] if args.idle_only else sizes:
                    b = await bare_run(bare.host, size, args.messages, deflate, args.gap)
                    a = await room_run([app.host], data, size, args.messages, deflate, args.gap)
                    show(f"[{tag}] {size:5d} sockets  bare relay: {fmt(b)}")
                    show(
                        f"[{tag}] {size:5d} sockets  app (auth+stored): {fmt(a)}  "
                        f"p99 ratio {a['p99'] / b['p99']:.2f}"
                    )
                if not args.no_idle and (not deflate or args.idle_deflate):
                    n = idle if not deflate else min(idle, 2000)
                    ib = await idle_run(bare.host, bare.proc.pid, data, n, deflate, False)
                    ia = await idle_run(app.host, app.proc.pid, data, n, deflate, True)
                    show(
                        f"[{tag}] {n} idle sockets  bare relay: RSS "
                        f"{ib['rss_before_mb']:.0f} -> {ib['rss_after_mb']:.0f} MB "
                        f"({ib['kb_per_socket']:.1f} kB/socket)"
                    )
                    show(
                        f"[{tag}] {n} idle sockets  app, authenticated in rooms: RSS "
                        f"{ia['rss_before_mb']:.0f} -> {ia['rss_after_mb']:.0f} MB "
                        f"({ia['kb_per_socket']:.1f} kB/socket, opened in "
                        f"{ia['open_s']:.1f} s)"
                    )
            finally:
                app.stop()
                bare.stop()
        if redis_url and not args.idle_only:
            renv = {**env, "REDIS_URL": redis_url}
            a1, a2 = Server("app.main:app", renv, False), Server("app.main:app", renv, False)
            single = Server("app.main:app", env, False)
            try:
                for size in sizes:
                    one = await room_run([single.host], data, size, args.messages, False, args.gap)
                    two = await room_run(
                        [a1.host, a2.host], data, size, args.messages, False, args.gap
                    )
                    show(f"[redis] {size:5d} sockets  one process: {fmt(one)}")
                    show(
                        f"[redis] {size:5d} sockets  two processes via Redis (half the "
                        f"room on each): {fmt(two)}  overhead p99 "
                        f"{two['p99'] - one['p99']:+.1f} ms "
                        f"({two['p99'] / one['p99']:.2f}x)"
                    )
            finally:
                for s in (a1, a2, single):
                    s.stop()
        else:
            show("[redis] skipped: set REDIS_URL for the two-process figures")
    finally:
        drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="rooms of 50/200, 1,000 idle sockets")
    p.add_argument("--messages", type=int, default=40)
    p.add_argument("--gap", type=float, default=0.15, help="seconds between messages")
    p.add_argument("--idle", type=int, default=10_000)
    p.add_argument("--sizes", type=int, nargs="*", help="room sizes (default 200 1000)")
    p.add_argument("--no-idle", action="store_true", help="skip the idle-memory run")
    p.add_argument("--ws", default="auto", help="uvicorn's --ws implementation for every server")
    p.add_argument(
        "--idle-only",
        action="store_true",
        help="memory only: skip the delivery-latency rooms and the Redis rows",
    )
    p.add_argument("--redis-only", action="store_true", help="only the two-process figures")
    p.add_argument(
        "--deflate", action="store_true", help="also measure with permessage-deflate negotiated"
    )
    p.add_argument(
        "--idle-deflate",
        action="store_true",
        help="with --deflate, also measure idle memory with it (2,000 sockets)",
    )
    args = p.parse_args()
    Server.ws_impl = args.ws
    try:
        import uvloop

        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
