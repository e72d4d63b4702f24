"""The benchmark harness: the app and a bare echo app under the same load, side by side.

1. A fresh database (a SQLite file, or a PostgreSQL database created for the run and
   dropped after), migrated with Alembic.
2. Every scenario (bench/scenarios/*.py) seeds its data and names its targets.
3. The app (`uvicorn app.main:app`, one worker, no access log) and the echo baseline
   (bench/baseline.py, the same uvicorn settings) start on 127.0.0.1.
4. wrk loads each target for a fixed time from its own process; the echo endpoint is
   measured before and after the targets and averaged, so drift on a shared machine
   shows up in both sides of every ratio.
5. One table: requests/s and p99 per endpoint, and both as ratios to the echo endpoint
   of the same method (GET to GET, POST with a JSON body to POST).
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scenarios import UNIQUE, Target, discover

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-" + "x" * 32


@dataclass
class Result:
    name: str
    method: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


# --- wrk scripts ---------------------------------------------------------------------------

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

_THREADS = r"""
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
"""


def _lua_str(s: str) -> str:
    """A Lua long-bracket literal: no escapes to get wrong, whatever the body holds."""
    level = 0
    while f"]{'=' * level}]" in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[\n{s}]{eq}]"


def _pick(t: Target) -> tuple[str, str]:
    """The Lua tables a script needs and the lines that choose the i-th request's path
    (and, with `each`, its own headers): `paths` in turn, or `each` once apiece."""
    if not t.each:
        paths = ", ".join(_lua_str(x) for x in (t.paths or (t.path,)))
        return (
            f"local paths = {{ {paths} }}",
            'local p = (paths[(counter - 1) % #paths + 1]:gsub("%$UNIQUE", u))',
        )
    # The headers are few (a token per person), the entries many: each names its set.
    kinds: dict[str, int] = {}
    rows = []
    for path, headers in t.each:
        key = json.dumps(headers, sort_keys=True)
        kinds.setdefault(key, len(kinds) + 1)
        rows.append(f"  {{ {_lua_str(path)}, {kinds[key]} }}")
    sets = [
        "  { "
        + ", ".join(f"[ {_lua_str(k)} ] = {_lua_str(v)}" for k, v in json.loads(j).items())
        + " }"
        for j in kinds
    ]
    tables = "local each = {\n" + ",\n".join(rows) + "\n}\nlocal kinds = {\n"
    tables += ",\n".join(sets) + "\n}"
    # One wrk thread walks the pool once (run_wrk refuses more: each would walk it).
    pick = (
        "local e = each[counter] or each[#each]\n"
        "  for k, v in pairs(kinds[e[2]]) do h[k] = v end\n"
        '  local p = (e[1]:gsub("%$UNIQUE", u))'
    )
    return tables, pick


def wrk_script(t: Target, nonce: str) -> str:
    if t.lua is not None:
        return t.lua + "\n" + _DONE
    body = t.body if isinstance(t.body, str) or t.body is None else json.dumps(t.body)
    headers = dict(t.headers)
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    header_lines = "\n".join(f"  h[ {_lua_str(k)} ] = {_lua_str(v)}" for k, v in headers.items())
    idem = "true" if t.method == "POST" and t.idempotency_key else "false"
    tables, pick = _pick(t)
    return f"""
{_THREADS}
local counter = 0
local method = {_lua_str(t.method)}
{tables}
local body = {_lua_str(body) if body is not None else "nil"}
request = function()
  counter = counter + 1
  local u = "{nonce}-" .. tostring(tid or 0) .. "-" .. tostring(counter)
  local h = {{}}
{header_lines}
  {pick}
  if {idem} then h["Idempotency-Key"] = u end
  local b = body and (body:gsub("%$UNIQUE", u)) or nil
  return wrk.format(method, p, h, b)
end
{_DONE}
"""


def run_wrk(base: str, t: Target, args: argparse.Namespace, workdir: Path) -> Result:
    if t.each and args.threads != 1:
        raise SystemExit(f"{t.name}: a pool of one-off requests (`each`) needs --threads 1")
    nonce = secrets.token_hex(4)
    script = workdir / f"{nonce}.lua"
    script.write_text(wrk_script(t, nonce))
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out = proc.stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None or proc.stderr.strip():
        raise RuntimeError(f"wrk failed for {t.name}:\n{out}\n{proc.stderr}")
    d = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = d["duration_us"] / 1e6
    errors = sum(d[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Result(
        t.name,
        t.method,
        d["requests"] / seconds,
        d["p50_us"] / 1000,
        d["p99_us"] / 1000,
        d["requests"],
        errors,
    )


def preflight(base: str, t: Target) -> None:
    """One request before the load: benchmarking a 401 or a 422 would measure nothing."""
    if t.lua is not None:
        return
    u = "preflight-" + secrets.token_hex(4)
    body = t.body if isinstance(t.body, str) or t.body is None else json.dumps(t.body)
    data = body.replace(UNIQUE, u).encode() if body is not None else None
    headers = dict(t.headers)
    path = t.path
    if t.each:  # the pool's last entry: the load walks it from the start
        path, own = t.each[-1]
        headers.update(own)
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    if t.method == "POST" and t.idempotency_key:
        headers["Idempotency-Key"] = u
    req = urllib.request.Request(
        base + path.replace(UNIQUE, u), data=data, headers=headers, method=t.method
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{t.name}: preflight got {e.code}: {e.read()[:300]!r}") from e
    if status >= 400:
        raise RuntimeError(f"{t.name}: preflight got {status}")


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_uvicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def profile_start(args: argparse.Namespace, pid: int, t: Target) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the app (not wrk) while one target is loaded: where CPU time goes."""
    if not args.profile:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "_" for c in t.name).strip("_")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "250",
        "--duration",
        str(args.duration),
        "--nonblocking",
        "-o",
        str(args.profile / f"{name}.txt"),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_stop(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


# --- database ------------------------------------------------------------------------------


def _pg_admin_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"


async def _pg(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def make_database(args: argparse.Namespace, workdir: Path) -> tuple[str, str | None]:
    """Returns (url, PostgreSQL database to drop afterwards or None)."""
    env_url = os.environ.get("DATABASE_URL", "")
    if args.db == "postgres" or env_url.startswith("postgresql"):
        base = (
            env_url
            if env_url.startswith("postgresql")
            else "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        )
        name = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(_pg(base, f'CREATE DATABASE "{name}"'))
        return base.rsplit("/", 1)[0] + "/" + name, name
    return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None


def drop(url: str, pg_db: str | None, workdir: Path) -> None:
    """What make_database made, and the run's folder."""
    if pg_db:
        asyncio.run(_pg(url, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
    shutil.rmtree(workdir, ignore_errors=True)


def bench_settings() -> None:
    """The app's settings for a benchmark. Settings are read once per process: call this
    before anything imports app. The rate limit is counted (its cost is measured) but set
    above what wrk can send."""
    os.environ.update(
        {
            "SECRET_KEY": SECRET,
            "DEMO_DATA": "false",
            "RUN_WORKER": "false",
            "RATE_LIMIT_REQUESTS": "1000000000",
        }
    )
    os.environ.pop("BOOTSTRAP_ADMIN_EMAIL", None)
    os.environ.pop("BOOTSTRAP_ADMIN_PASSWORD", None)


def migrate(url: str) -> None:
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


class Context:
    """What a scenario's seeding coroutine gets: the test factories on the bench database."""

    def __init__(self) -> None:
        from tests.factories import Factory

        self.f = Factory()

    def headers(self, who: Any) -> dict[str, str]:
        return self.f.headers(who)

    @staticmethod
    def session() -> Any:
        from app.core.db import sessionmaker

        return sessionmaker()()


async def seed(url: str, scenarios: list[Any]) -> list[Target]:
    from app.core.db import dispose_engine, init_engine

    init_engine(url)
    try:
        ctx = Context()
        targets: list[Target] = []
        for sc in scenarios:
            targets.extend(await sc.targets(ctx))
        return targets
    finally:
        await dispose_engine()


# --- report --------------------------------------------------------------------------------


def report(echo: dict[str, Result], results: list[Result]) -> str:
    lines = [
        f"{'endpoint':<44} {'req/s':>9} {'p99 ms':>8} {'req/s ÷ echo':>13} "
        f"{'p99 ÷ echo':>10} {'errors':>7}"
    ]
    for r in echo.values():
        lines.append(
            f"{'echo ' + r.method + ' (baseline)':<44} {r.rps:>9.0f} {r.p99_ms:>8.1f} "
            f"{1.0:>13.2f} {1.0:>10.2f} {r.errors:>7}"
        )
    for r in results:
        base = echo["POST" if r.method in ("POST", "PUT", "PATCH") else "GET"]
        lines.append(
            f"{r.name:<44} {r.rps:>9.0f} {r.p99_ms:>8.1f} {r.rps / base.rps:>13.2f} "
            f"{r.p99_ms / base.p99_ms:>10.2f} {r.errors:>7}"
        )
    return "\n".join(lines)


def _average(a: Result, b: Result) -> Result:
    return Result(
        a.name,
        a.method,
        (a.rps + b.rps) / 2,
        (a.p50_ms + b.p50_ms) / 2,
        (a.p99_ms + b.p99_ms) / 2,
        a.requests + b.requests,
        a.errors + b.errors,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database for the run (DATABASE_URL=postgresql+asyncpg://... also "
        "selects PostgreSQL; a database is created and dropped)",
    )
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--scenario", action="append", help="run only these scenarios")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument(
        "--profile",
        type=Path,
        help="record each target's CPU profile with py-spy into this folder (collapsed "
        "stacks, <target>.txt; summarise with `python -m bench.stacks FILE`)",
    )
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk (make bench installs it)", file=sys.stderr)
        return 2

    bench_settings()
    scenarios = discover(args.scenario)
    if not scenarios:
        print("no scenarios found", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="consult-bench-"))
    url, pg_db = make_database(args, workdir)
    os.environ["DATABASE_URL"] = url
    procs: list[subprocess.Popen[bytes]] = []
    try:
        migrate(url)
        targets = asyncio.run(seed(url, scenarios))
        env = dict(os.environ, DATA_DIR=str(workdir / "data"))
        for sc in scenarios:
            env.update(sc.env)
        app_port, echo_port = free_port(), free_port()
        procs.append(start_uvicorn("app.main:app", app_port, env))
        procs.append(start_uvicorn("bench.baseline:app", echo_port, env))
        app_base, echo_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{echo_port}"
        wait_ready(app_base + "/healthz", procs[0])
        wait_ready(echo_base + "/echo", procs[1])
        echo_targets = [
            Target("echo GET", "GET", "/echo"),
            Target(
                "echo POST", "POST", "/echo", body={"name": "Clinic", "country": "KE", "n": UNIQUE}
            ),
        ]
        for t in targets:
            preflight(app_base, t)
        db = "postgresql" if pg_db else "sqlite"
        print(
            f"# {len(targets)} endpoints, {args.duration}s each, {args.connections} "
            f"connections, {args.threads} wrk thread(s), database {db}",
            flush=True,
        )
        before = {t.method: run_wrk(echo_base, t, args, workdir) for t in echo_targets}
        results = []
        for t in targets:
            spy = profile_start(args, procs[0].pid, t)
            results.append(run_wrk(app_base, t, args, workdir))
            profile_stop(spy)
            print(f"  {t.name}: {results[-1].rps:.0f} req/s", flush=True)
        after = {t.method: run_wrk(echo_base, t, args, workdir) for t in echo_targets}
        echo = {m: _average(before[m], after[m]) for m in before}
        print(report(echo, results))
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "database": db,
                        "duration_s": args.duration,
                        "connections": args.connections,
                        "echo": {m: vars(r) for m, r in echo.items()},
                        "results": [vars(r) for r in results],
                    },
                    indent=2,
                )
            )
        return 1 if any(r.errors for r in results) else 0
    finally:
        for p in procs:
            stop(p)
        drop(url, pg_db, workdir)
