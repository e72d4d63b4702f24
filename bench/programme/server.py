"""The real server for one simulated run: a fresh database, one API process on SQLite (two
behind Redis on PostgreSQL), each with its embedded worker and notification sender, and
their cost afterwards (requests served, latency by route, database size)."""

import asyncio
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from bench.harness import SECRET, _pg, free_port, make_database, migrate, start_uvicorn, stop
from bench.harness import wait_ready as _wait_ready

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@programme.example.org", "admin-password-1"


@dataclass
class Server:
    db: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="programme-")))
    url: str = ""
    pg_name: str | None = None
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def mail_dir(self) -> Path:
        return self.workdir / "data" / "mail"

    def create(self) -> None:
        self.url, self.pg_name = make_database(SimpleNamespace(db=self.db), self.workdir)
        migrate(self.url)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "SECRET_KEY": SECRET,
            "ENVIRONMENT": "test",
            "DEMO_DATA": "false",
            # The simulation runs the worker, at the instants it steps the clock to.
            "RUN_WORKER": "false",
            "DATA_DIR": str(self.workdir / "data"),
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "8192",
            "ACCESS_TOKEN_MINUTES": "240",
            "PUBLIC_URL": "https://consult.example.org",
            "LOG_LEVEL": "WARNING",
            "WS_CHANNEL": f"consult:programme:{secrets.token_hex(4)}",
        }
        self.env.pop("SMTP_URL", None)  # mail becomes .eml files the simulation reads
        if self.db == "postgres":
            self.env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        else:
            self.env.pop("REDIS_URL", None)
        n = 2 if self.db == "postgres" else 1
        self.ports = [free_port() for _ in range(n)]

    def start(self, clock: dict[str, str] | None = None) -> None:
        """(Re)start the API processes with these clock settings."""
        self.halt()
        env = {**self.env, **(clock or {})}
        for k in ("CLOCK_START", "CLOCK_SPEED", "CLOCK_ANCHOR", "CLOCK_FILE"):
            if clock is None or k not in clock:
                env.pop(k, None)
        self.procs = [start_uvicorn("app.main:app", port, env) for port in self.ports]
        for base, proc in zip(self.bases, self.procs, strict=True):
            _wait_ready(base + "/readyz", proc, timeout=90)

    def halt(self) -> None:
        for p in self.procs:
            stop(p)
        self.procs = []

    def close(self) -> None:
        self.halt()
        if self.pg_name:
            asyncio.run(_pg(self.url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the API processes have used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for proc in self.procs:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        return round(total, 1)

    async def db_bytes(self) -> int:
        if self.pg_name:
            import asyncpg

            plain = self.url.replace("postgresql+asyncpg://", "postgresql://")
            conn = await asyncpg.connect(plain)
            try:
                return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
            finally:
                await conn.close()
        db = Path(self.url.removeprefix("sqlite+aiosqlite:///"))
        return sum(f.stat().st_size for f in db.parent.glob(db.name + "*"))


_SAMPLE = re.compile(r'^(\w+)\{((?:\w+="[^"]*",?)*)\} ([0-9.eE+-]+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


async def scrape(bases: list[str]) -> dict[str, Any]:
    """Every process's Prometheus figures for HTTP, summed: requests by route and status,
    and the latency histogram by route."""
    count: dict[str, float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    statuses: dict[str, float] = defaultdict(float)
    async with httpx.AsyncClient(timeout=30) as http:
        for base in bases:
            text = (await http.get(base + "/metrics")).text
            for line in text.splitlines():
                m = _SAMPLE.match(line)
                if not m:
                    continue
                name, labels, value = (
                    m.group(1),
                    dict(_LABEL.findall(m.group(2))),
                    float(m.group(3)),
                )
                route = f"{labels.get('method', '')} {labels.get('route', '')}"
                if name == "http_requests_total":
                    count[route] += value
                    statuses[labels.get("status", "")] += value
                elif name == "http_request_duration_seconds_bucket":
                    le = labels.get("le", "+Inf")
                    buckets[route][float("inf") if le == "+Inf" else float(le)] += value
    routes = {}
    for route, n in count.items():
        routes[route] = {"requests": int(n), "p99_ms_at_most": _p99(buckets.get(route, {}))}
    return {"routes": routes, "statuses": dict(statuses), "requests": int(sum(count.values()))}


def _p99(b: dict[float, float]) -> float | None:
    """The upper bound of the histogram bucket that holds the 99th percentile."""
    if not b:
        return None
    total = b.get(float("inf"), max(b.values()))
    for le in sorted(b):
        if b[le] >= 0.99 * total:
            return None if le == float("inf") else le * 1000
    return None
