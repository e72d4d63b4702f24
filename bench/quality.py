"""GET /metrics/quality over a programme-sized history.

    .venv/bin/python -m bench.quality [--db postgres] [--cases 100000] [--runs 7]

Builds a fresh database (a SQLite file, or a PostgreSQL database on 127.0.0.1 that is dropped
afterwards), migrates it, bulk-loads 100,000 cases with 300,000 notes, 300,000 messages and
300,000 follow-ups (plus offers, feedback and round attendance) with Core executemany, then
fills the measures' case timing table once, then times the measures' service function (which
catches up on changes first, as every request does): programme-wide, for one facility and one
quarter, and for one specialty over the last year.
Prints the median and worst of the timed runs, after one warm-up run.
"""

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BATCH = 10_000


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}_{i:012d}{secrets.token_hex(2)}" for i in range(n)]


async def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await conn.execute(table.insert(), rows[i : i + BATCH])


def _generate(n_cases: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(5)
    orgs = [
        {
            "id": f"org_bench{i}",
            "name": f"Facility {i}",
            "country": "KE",
            "timezone": "Africa/Nairobi",
            "languages": ["en"],
            "local_resources": {},
            "created_at": now,
            "updated_at": now,
        }
        for i in range(8)
    ]
    users = []
    clinicians: dict[str, list[str]] = {}
    for o in orgs:
        ids = [f"usr_c{o['id'][-1]}{j}" for j in range(5)]
        clinicians[o["id"]] = ids
        users += [
            {
                "id": u,
                "email": f"{u}@bench.org",
                "name": u,
                "role": "clinician",
                "organization_id": o["id"],
                "active": True,
                "token_version": 0,
                "created_at": now,
                "updated_at": now,
            }
            for u in ids
        ]
    specialists = [f"usr_s{j:03d}" for j in range(60)]
    users += [
        {
            "id": u,
            "email": f"{u}@bench.org",
            "name": u,
            "role": "specialist",
            "organization_id": None,
            "active": True,
            "token_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        for u in specialists
    ]
    specialties = [
        "dermatology",
        "cardiology",
        "pediatrics",
        "internal_medicine",
        "infectious_disease",
        "radiology",
    ]
    cases, notes, messages, follow_ups, offers, feedback = [], [], [], [], [], []
    case_ids = _ids("case", n_cases)
    for cid in case_ids:
        org = rnd.choice(orgs)["id"]
        created = now - timedelta(days=rnd.uniform(1, 365))
        urgency = rnd.choices(["routine", "urgent", "emergency"], [7, 2, 1])[0]
        respond_by = created + timedelta(
            hours={"routine": 72, "urgent": 24, "emergency": 1}[urgency]
        )
        spec = rnd.choice(specialists)
        fate = rnd.random()
        status, assigned_at, answered_at = "submitted", None, None
        if fate < 0.85:
            assigned_at = created + timedelta(minutes=rnd.expovariate(1 / 240))
            status = "assigned"
            if fate < 0.75:
                answered_at = assigned_at + timedelta(minutes=rnd.expovariate(1 / 900))
                status = rnd.choice(["answered", "closed"])
        elif fate < 0.92:
            status = "unmatched"
        else:
            status = "cancelled"
        clin = rnd.choice(clinicians[org])
        cases.append(
            {
                "id": cid,
                "organization_id": org,
                "submitted_by_id": clin,
                "specialty": rnd.choice(specialties),
                "urgency": urgency,
                "question": "Question?",
                "summary": "",
                "patient_reference": "MRN",
                "languages": ["en"],
                "interpreter_needed": False,
                "consent_method": "verbal",
                "status": status,
                "respond_by": respond_by,
                "assigned_specialist_id": spec if assigned_at else None,
                "assigned_at": assigned_at,
                "answered_at": answered_at,
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        for k, offered in enumerate(rnd.sample(specialists, 2)):
            offers.append(
                {
                    "id": f"off_{cid[5:]}{k}",
                    "case_id": cid,
                    "specialist_id": offered,
                    "status": rnd.choice(["accepted", "declined", "expired", "withdrawn"]),
                    "rank": k,
                    "score": 0.5,
                    "score_parts": {},
                    "interpreter_needed": False,
                    "expires_at": created + timedelta(hours=2),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        # Three notes: the consult note (signed when answered), a progress note, an addendum.
        for k, kind in enumerate(("consult", "progress", "addendum")):
            signed_at = (answered_at + timedelta(hours=k * 24)) if answered_at else None
            notes.append(
                {
                    "id": f"note_{cid[5:]}{k}",
                    "case_id": cid,
                    "kind": kind,
                    "status": "signed" if signed_at else "draft",
                    "author_id": spec,
                    "assessment": "a",
                    "recommendations": "r",
                    "follow_up_plan": "",
                    "red_flags": "",
                    "referral_advice": "",
                    "version": 2,
                    "signed_at": signed_at,
                    "signed_by_id": spec if signed_at else None,
                    "acknowledged_at": signed_at + timedelta(hours=3)
                    if signed_at and rnd.random() < 0.6
                    else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        t = created
        for k in range(3):
            t = t + timedelta(minutes=rnd.expovariate(1 / 120))
            role = "clinician" if k == 0 or not assigned_at else "specialist"
            messages.append(
                {
                    "id": f"msg_{cid[5:]}{k}",
                    "case_id": cid,
                    "seq": k + 1,
                    "sender_id": spec if role == "specialist" else clin,
                    "sender_role": role,
                    "body": "...",
                    "client_msg_id": f"m{k}",
                    "created_at": t,
                }
            )
        for k in range(3):
            due = created + timedelta(days=rnd.uniform(1, 60))
            fstatus = (
                "open" if due > now else rnd.choice(["done", "done", "missed", "open", "cancelled"])
            )
            follow_ups.append(
                {
                    "id": f"fu_{cid[5:]}{k}",
                    "case_id": cid,
                    "due_at": due,
                    "organization_id": org,
                    "specialty": cases[-1]["specialty"],
                    "description": "recheck",
                    "assignee_id": clin,
                    "status": fstatus,
                    "completed_at": due if fstatus in ("done", "missed") else None,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        if answered_at and rnd.random() < 0.5:
            feedback.append(
                {
                    "id": f"fb_{cid[5:]}",
                    "case_id": cid,
                    "author_id": clin,
                    "usefulness": rnd.randint(1, 5),
                    "changed_management": rnd.random() < 0.4,
                    "revision": 1,
                    "replaced": [],
                    "created_at": created,
                    "updated_at": created,
                }
            )
    return {
        "organization": orgs,
        "user": users,
        "case": cases,
        "offer": offers,
        "note": notes,
        "message": messages,
        "follow_up": follow_ups,
        "feedback": feedback,
    }


def _rounds(now: datetime, users: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    series, attendance = [], []
    for i in range(8):
        sid = f"rnd_bench{i}"
        start = now - timedelta(days=364)
        series.append(
            {
                "id": sid,
                "title": f"Round {i}",
                "host_organization_id": f"org_bench{i}",
                "timezone": "UTC",
                "starts_at_local": start.strftime("%Y-%m-%dT%H:%M"),
                "starts_at": start,
                "duration_minutes": 60,
                "rrule": "FREQ=WEEKLY",
                "specialty": "dermatology",
                "teaching_topic": "",
                "version": 1,
                "created_at": start,
                "updated_at": start,
            }
        )
        local = [u["id"] for u in users if u["organization_id"] == f"org_bench{i}"]
        for week in range(52):
            occ = start + timedelta(weeks=week)
            for j, uid in enumerate(local + ["usr_s000"]):
                attendance.append(
                    {
                        "id": f"rat_{i}_{week}_{j}",
                        "series_id": sid,
                        "occurrence_start": occ,
                        "user_id": uid,
                        "attended": (week + j) % 3 != 0,
                        "local": uid != "usr_s000",
                        "created_at": occ,
                        "updated_at": occ,
                    }
                )
    return {"round_series": series, "round_attendance": attendance}


def _migrate(url: str) -> None:
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run(db: str, n_cases: int, runs: int) -> dict[str, Any]:
    os.environ.setdefault("ENVIRONMENT", "development")
    if db == "postgres":
        name = f"bench_quality_{os.getpid()}"
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
    else:
        path = Path(tempfile.mkdtemp(prefix="bench-quality-")) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
    try:
        return await _run(url, db, n_cases, runs)
    finally:
        from app.core.db import dispose_engine

        await dispose_engine()
        if db == "postgres":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(url: str, db: str, n_cases: int, runs: int) -> dict[str, Any]:
    from sqlalchemy import text

    from app.core.db import get_engine, init_engine, metadata, sessionmaker
    from app.core.principal import Principal, Role
    from app.core.registry import import_all_models
    from app.reporting.rollup import catch_up
    from app.reporting.service import quality

    await asyncio.to_thread(_migrate, url)
    init_engine(url)
    import_all_models()
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    data = _generate(n_cases, now)
    data.update(_rounds(now, data["user"]))
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = {}
    async with get_engine().begin() as conn:
        for name in (
            "organization",
            "user",
            "case",
            "offer",
            "note",
            "message",
            "follow_up",
            "feedback",
            "round_series",
            "round_attendance",
        ):
            if name not in metadata.tables:
                print(f"  (no {name!r} table in this build: skipped)", file=sys.stderr)
                continue
            await _insert(conn, metadata.tables[name], data[name])
            counts[name] = len(data[name])
    async with get_engine().begin() as conn:
        await conn.execute(text("ANALYZE"))
    load_s = time.perf_counter() - t0
    # Data loaded behind the app's back: fill the timing table once, as a deployment does on
    # its first pass; every later request only catches up on what changed.
    t0 = time.perf_counter()
    async with sessionmaker()() as s:
        await catch_up(s, rebuild=True)
        await s.commit()
    async with get_engine().begin() as conn:
        await conn.execute(text("ANALYZE"))
    build_s = time.perf_counter() - t0

    coordinator = Principal(
        id="usr_bench", kind="user", role=Role.coordinator, organization_id=None
    )
    scenarios = {
        "programme-wide, all time": {},
        "one facility, one quarter": {
            "organization_id": "org_bench3",
            "start": now - timedelta(days=180),
            "end": now - timedelta(days=90),
        },
        "one specialty, last year": {
            "specialty": "dermatology",
            "start": now - timedelta(days=365),
        },
    }
    timings: dict[str, list[float]] = {}
    for label, kw in scenarios.items():
        samples = []
        for i in range(runs + 1):
            async with sessionmaker()() as s:
                t = time.perf_counter()
                result = await quality(s, coordinator, **kw)
                elapsed = (time.perf_counter() - t) * 1000
                await s.rollback()
            if i:  # the first run warms caches
                samples.append(elapsed)
        timings[label] = samples
        if label.startswith("programme"):
            sample = result
    return {
        "db": db,
        "counts": counts,
        "generate_s": gen_s,
        "load_s": load_s,
        "build_s": build_s,
        "timings": timings,
        "sample": sample,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    out = asyncio.run(run(args.db, args.cases, args.runs))
    print(
        f"GET /metrics/quality service function on {out['db']} "
        f"({datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs)"
    )
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in out["counts"].items()))
    print(
        f"  generated in {out['generate_s']:.1f} s, loaded in {out['load_s']:.1f} s, "
        f"case timing table built once in {out['build_s']:.1f} s"
    )
    worst_median = 0.0
    for label, samples in out["timings"].items():
        med = statistics.median(samples)
        worst_median = max(worst_median, med)
        print(
            f"  {label:28s} median {med:7.1f} ms   max {max(samples):7.1f} ms   "
            f"({len(samples)} runs)"
        )
    s = out["sample"]
    print(
        f"  sample: cases {s['cases_submitted']:,}, median time to accept "
        f"{s['time_to_accept']['median_minutes']} min, to first response "
        f"{(s['time_to_first_response'] or {}).get('median_minutes')} min, to signed note "
        f"{s['time_to_signed_note']['median_minutes']} min, within SLA "
        f"{s['answered_within_sla_rate']}"
    )
    verdict = "PASS" if worst_median < 500 else "FAIL"
    print(f"  budget 500 ms: {verdict} (slowest median {worst_median:.1f} ms)")


if __name__ == "__main__":
    main()
