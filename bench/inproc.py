"""What each target costs inside the app, without HTTP or a load generator beside it.

`python -m bench.inproc [--scenario NAME] [--db postgres] [--requests N] [--concurrency C]
[--statements] [--only TEXT]`

The same database, migrations and seeding as `python -m bench` (bench.harness); then the
app is called in this process through ASGI, one request at a time (median and 10th
percentile of N), and with `--concurrency` by C tasks at once (requests/s, the
interleaving a server sees). The baseline app's `GET /echo` is timed the same way first.
`--statements` also times every statement the request sends (the fast lane's and, on
SQLite, the ORM's), per request.

Why: wrk's ratios say how far a route is from the target, not where its time goes, and on
this two-core machine the load generator takes a core. What a served request costs beyond
its in-process time (uvicorn's HTTP, the socket) is about the same for every route, so
this is the part our code decides (docs/bench.md#in-process-costs).
"""

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import harness
from bench.scenarios import UNIQUE, Target, discover

Asgi = Callable[..., Awaitable[None]]


async def _call(
    app: Asgi, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, int]:
    """One request through the ASGI app: (status, bytes of body)."""
    bare, _, query = path.partition("?")
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"host", b"127.0.0.1"))
    if body:
        raw.append((b"content-type", b"application/json"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": bare,
        "raw_path": bare.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False
    out = {"status": 0, "size": 0}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["size"] += len(message.get("body", b""))

    await app(scope, receive, send)
    return out["status"], out["size"]


class _Requests:
    """A target's i-th request: its path, headers (a fresh Idempotency-Key for a POST, as
    the wrk script sends; with `each`, the i-th entry's own) and body ($UNIQUE replaced, as
    wrk does)."""

    def __init__(self, t: Target) -> None:
        self.t = t
        self.paths = t.paths or (t.path,)
        self.body = t.body if isinstance(t.body, str) or t.body is None else json.dumps(t.body)
        self.nonce = os.urandom(4).hex()

    def __call__(self, i: int) -> tuple[str, dict[str, str], bytes]:
        unique = f"{self.nonce}-{i}"
        headers = dict(self.t.headers)
        if self.t.method == "POST" and self.t.idempotency_key:
            headers["Idempotency-Key"] = unique
        path = self.paths[i % len(self.paths)]
        if self.t.each:
            path, own = self.t.each[min(i, len(self.t.each) - 1)]
            headers.update(own)
        path = path.replace(UNIQUE, unique)
        body = self.body.replace(UNIQUE, unique).encode() if self.body is not None else b""
        return path, headers, body


class _Statements:
    """Time spent per statement text, over a measured stretch (see --statements)."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}

    def add(self, key: str, seconds: float) -> None:
        entry = self.spent.setdefault(key[:110].replace("\n", " "), [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def install(self) -> None:
        from app.core import queries as q
        from app.core import sqlite

        for name in ("fetchrow", "fetch", "execute"):
            original = getattr(q.Queries, name)

            def timed(original: Any) -> Any:
                async def run(db: Any, stmt: Any, params: Any = None) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return await original(db, stmt, params)
                    finally:
                        self.add("lane " + stmt.compiled(db._dialect)[0], time.perf_counter() - t0)

                return run

            setattr(q.Queries, name, timed(original))
        execute = sqlite._SqliteConnection._execute

        async def orm(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await execute(conn, fn, *args, **kwargs)
            finally:
                sql = next((a for a in args if isinstance(a, str)), getattr(fn, "__name__", "?"))
                self.add("orm  " + sql, time.perf_counter() - t0)

        sqlite._SqliteConnection._execute = orm  # type: ignore[method-assign]

    def report(self, requests: int) -> None:
        for key, (n, s) in sorted(self.spent.items(), key=lambda kv: -kv[1][1])[:15]:
            if n >= requests / 2:
                print(f"    {s / requests * 1e6:7.1f} µs  {n / requests:4.1f}×  {key}")
        self.spent.clear()


async def _lifespan(app: Asgi) -> Callable[[], Awaitable[None]]:
    """Start the app as a server would; returns what stops it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.get_running_loop().create_task(app(scope, inbox.get, outbox.put))
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def _measure(
    app: Asgi, t: Target, args: argparse.Namespace, stmts: _Statements | None
) -> None:
    make = _Requests(t)
    for i in range(20):  # warm: compiled statements, caches
        status, size = await _call(app, t.method, *make(i))
    if stmts:
        stmts.spent.clear()
    times = []
    prof = cProfile.Profile() if args.cprofile else None
    for i in range(20, 20 + args.requests):
        if prof:
            prof.enable()
        t0 = time.perf_counter()
        status, size = await _call(app, t.method, *make(i))
        times.append(time.perf_counter() - t0)
        if prof:
            prof.disable()
    if prof:
        _dump(prof, Path(args.cprofile), t.name)
    times.sort()
    line = (
        f"{t.name:48s} {status} {size:7d} B  median {statistics.median(times) * 1e6:6.0f} µs"
        f"  p10 {times[len(times) // 10] * 1e6:6.0f} µs"
    )
    if stmts:
        print(line)
        stmts.report(args.requests)
        line = ""
    if args.concurrency:
        start, count = 20 + args.requests, args.requests

        async def worker(w: int) -> None:
            for i in range(start + w, start + count, args.concurrency):
                await _call(app, t.method, *make(i))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(args.concurrency)))
        line += f"  {count / (time.perf_counter() - t0):6.0f} req/s at {args.concurrency}"
    if line:
        print(line, flush=True)


def _dump(prof: cProfile.Profile, folder: Path, name: str) -> None:
    """One target's profile, for `python -m pstats` (or snakeviz) to read."""
    folder.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(folder / (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ".prof"))


async def _run(targets: list[Target], args: argparse.Namespace) -> None:
    stmts = _Statements() if args.statements else None
    if stmts:
        stmts.install()
    from app.main import app
    from bench.baseline import app as echo

    stop = await _lifespan(app)
    db = "postgresql" if os.environ["DATABASE_URL"].startswith("postgresql") else "sqlite"
    print(f"# in-process, {args.requests} requests per target, database {db}")
    await _measure(echo, Target("echo GET (baseline app)", "GET", "/echo"), args, None)
    for t in targets:
        if args.only and args.only not in t.name:
            continue
        if t.lua is not None:
            print(f"{t.name:48s} (a wrk script of its own: load it with python -m bench)")
            continue
        await _measure(app, t, args, stmts)
    await stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.inproc",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--scenario", action="append", help="only these scenarios")
    ap.add_argument("--requests", type=int, default=500, help="timed requests per target")
    ap.add_argument("--concurrency", type=int, default=0, help="also C requests at once")
    ap.add_argument("--statements", action="store_true", help="time each statement (SQLite)")
    ap.add_argument("--only", help="only targets whose name contains this")
    ap.add_argument("--cprofile", help="write a cProfile of each target's timed requests here")
    ap.add_argument("--logs", action="store_true", help="show the app's log lines")
    args = ap.parse_args(argv)
    harness.bench_settings()
    workdir = Path(tempfile.mkdtemp(prefix="consult-inproc-"))
    url, pg_db = harness.make_database(args, workdir)
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(workdir / "data")
    try:
        harness.migrate(url)
        scenarios = discover(args.scenario)
        for sc in scenarios:
            os.environ.update(sc.env)
        targets = asyncio.run(harness.seed(url, scenarios))
        # The app's log lines (one a request) are made and written as when served, to
        # nowhere unless asked for: a terminal would slow the run and bury the figures.
        with open(os.devnull if not args.logs else "/dev/stderr", "w") as logs:
            with contextlib.redirect_stderr(logs):
                asyncio.run(_run(targets, args))
    finally:
        harness.drop(url, pg_db, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
