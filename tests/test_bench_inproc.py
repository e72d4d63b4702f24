"""The in-process cost tool (bench/inproc.py) runs on a fresh machine as docs/bench.md
says: its own database on the test's kind of server, the foundation's targets answered
and timed, the echo first."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import IS_PG, TEST_URL

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<name>.+?)\s+(?P<status>\d{3})\s+(?P<size>\d+) B\s+median\s+(?P<us>\d+) µs")


def test_it_times_each_target_of_a_scenario():
    env = dict(os.environ)
    if IS_PG:
        env["DATABASE_URL"] = TEST_URL  # it makes and drops a database of its own there
    else:
        env.pop("DATABASE_URL", None)  # a SQLite file of its own
    run = subprocess.run(
        [sys.executable, "-m", "bench.inproc", "--scenario", "foundation", "--requests", "5"]
        + ["--concurrency", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    found = {m["name"]: m for m in map(LINE.match, run.stdout.splitlines()) if m}
    assert list(found) == [
        "echo GET (baseline app)",
        "GET /api/v1/me",
        "GET /api/v1/organizations?limit=50",
        "POST /api/v1/organizations",
    ], run.stdout
    statuses = {name: m["status"] for name, m in found.items()}
    assert statuses["GET /api/v1/me"] == "200" and statuses["POST /api/v1/organizations"] == "201"
    assert all(int(m["us"]) > 0 and int(m["size"]) > 0 for m in found.values())
    assert all(line.endswith("req/s at 2") for line in run.stdout.splitlines() if LINE.match(line))
