"""Ranking candidates for one case among 100,000 specialists.

    .venv/bin/python -m bench.ranking [--db sqlite|postgres] [--specialists 100000] [--runs 30]

1. A fresh database (a SQLite file, or a PostgreSQL database created for the run and
   dropped after), migrated with Alembic.
2. The roster is bulk-inserted with Core executemany (COPY on PostgreSQL): specialists with
   1-2 of the 25 specialties, 1-3 languages, 40 time zones, weekday windows, 2% on time off,
   90% verified, 85% accepting, capacities 2-6, and 50,000 past and open cases assigned
   across them (so load, continuity, responsiveness and fairness all have data to read).
3. app.matching.ranking.rank() (what GET /cases/{id}/candidates and auto offers call) runs
   `--runs` times for one case after a warm-up; the median and p90 are printed.
"""

import argparse
import asyncio
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SPECIALTIES_USED = None  # filled from the vocabulary
LANGS = ["en", "es", "fr", "pt", "ar", "sw", "hi", "ne", "zh", "de", "it", "ru", "ht", "qu", "so"]
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/Athens",
    "Europe/Moscow",
    "Africa/Nairobi",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Manila",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Toronto",
    "America/Montreal",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Sao_Paulo",
    "America/Argentina/Salta",
    "America/Argentina/Buenos_Aires",
    "America/Santiago",
    "America/Port-au-Prince",
]


def _urls(db: str) -> tuple[str, str | None]:
    if db == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="bench-ranking-")) / "ranking.db"
        return f"sqlite+aiosqlite:///{path}", None
    base = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    name = f"bench_ranking_{os.getpid()}_{secrets.token_hex(3)}"
    return base.rsplit("/", 1)[0] + "/" + name, name


async def _pg_admin(sql: str) -> None:
    import asyncpg

    base = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    conn = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _migrate(url: str) -> None:
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


def _roster(n: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    from app.specialists.availability import hour_masks, window_span
    from app.specialists.vocabulary import SPECIALTIES

    codes = sorted(SPECIALTIES)
    now = datetime.now(UTC)
    users, profiles, specs, langs, windows, offs = [], [], [], [], [], []
    for i in range(n):
        uid = f"usr_bench{i:09d}"
        users.append(
            {
                "id": uid,
                "email": f"sp{i}@bench.example",
                "name": f"Specialist {i}",
                "role": "specialist",
                "organization_id": None,
                "password_hash": None,
                "active": rng.random() > 0.01,
                "token_version": 0,
                "calendar_token_hash": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        sp = rng.sample(codes, rng.choice((1, 1, 2)))
        lg = rng.sample(LANGS, rng.choice((1, 2, 2, 3)))
        zone = rng.choice(ZONES)
        start = rng.choice((6, 7, 8, 9, 12, 14, 17))
        days = rng.sample(range(7), rng.choice((3, 4, 5)))
        av = [
            {"weekday": d, "start": f"{start:02d}:00", "end": f"{start + 6:02d}:00"}
            for d in sorted(days)
        ]
        profiles.append(
            p := {
                "user_id": uid,
                "specialties": sp,
                "languages": lg,
                "timezone": zone,
                "availability": av,
                "time_off": [],
                "max_active_cases": rng.randint(2, 6),
                "accepting": rng.random() < 0.85,
                "verified": rng.random() < 0.9,
                "verified_by_id": None,
                "verified_at": None,
                "offers_accepted": rng.randint(0, 20),
                "offers_declined": rng.randint(0, 10),
                "offers_expired": rng.randint(0, 5),
                "last_assigned_at": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        h0, h1, h2 = hour_masks([window_span(w["weekday"], w["start"], w["end"]) for w in av])
        specs += [
            {
                "user_id": uid,
                "specialty": s,
                "ready": p["verified"] and p["accepting"],
                "hours_0": h0,
                "hours_1": h1,
                "hours_2": h2,
                "timezone": zone,
                "max_active_cases": p["max_active_cases"],
                "language_key": "," + ",".join(sorted(lg)) + ",",
                "offers_accepted": p["offers_accepted"],
                "offers_declined": p["offers_declined"],
                "offers_expired": p["offers_expired"],
                "last_assigned_at": None,
            }
            for s in sp
        ]
        langs += [{"user_id": uid, "language": la} for la in lg]
        for w in av:
            a, b = window_span(w["weekday"], w["start"], w["end"])
            windows.append({"user_id": uid, "start_minute": a, "end_minute": b})
        if rng.random() < 0.02:
            offs.append(
                {
                    "user_id": uid,
                    "start_at": now - timedelta(days=1),
                    "end_at": now + timedelta(days=rng.randint(1, 10)),
                }
            )
    return {
        "user": users,
        "specialist_profile": profiles,
        "specialist_specialty": specs,
        "specialist_language": langs,
        "specialist_window": windows,
        "specialist_time_off": offs,
        "specialist_zone": [{"timezone": z} for z in ZONES],
    }


def _cases(
    org_ids: list[str], specialist_ids: list[str], n: int, rng: random.Random
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        status = rng.choices(("assigned", "answered", "closed"), (2, 1, 7))[0]
        at = now - timedelta(hours=rng.randint(1, 24 * 180))
        rows.append(
            {
                "id": f"case_bench{i:09d}",
                "organization_id": rng.choice(org_ids),
                "submitted_by_id": None,
                "submitted_by_client_id": None,
                "specialty": "dermatology",
                "urgency": "routine",
                "question": "q",
                "summary": "",
                "patient_reference": f"P{i}",
                "patient_age_years": 30.0,
                "patient_sex": None,
                "languages": ["es"],
                "interpreter_needed": False,
                "consent_method": "verbal",
                "follow_up_of_id": None,
                "status": status,
                "respond_by": at + timedelta(days=3),
                "assigned_specialist_id": rng.choice(specialist_ids),
                "assigned_at": at,
                "answered_at": None,
                "closed_at": None,
                "cancelled_at": None,
                "outcome": None,
                "version": 1,
                "created_at": at,
                "updated_at": at,
            }
        )
    return rows


async def _bulk(engine: Any, table_rows: dict[str, list[dict[str, Any]]], pg: bool) -> None:
    from sqlalchemy import insert

    from app.core.db import metadata

    async with engine.begin() as conn:
        for name, rows in table_rows.items():
            if not rows:
                continue
            table = metadata.tables[name]
            if pg:
                # COPY: the fast path for a million rows; values go through the column types.
                raw = (await conn.get_raw_connection()).driver_connection
                cols = [c.name for c in table.columns if c.name in rows[0]]
                dialect = conn.dialect
                procs = {c.name: c.type.bind_processor(dialect) for c in table.columns}
                import json

                def conv(col: str, v: Any, procs: dict[str, Any] = procs) -> Any:
                    if isinstance(v, list | dict):
                        return json.dumps(v)
                    p = procs.get(col)
                    return p(v) if p and not isinstance(v, str | bool | int | float) else v

                records = [tuple(conv(c, r[c]) for c in cols) for r in rows]
                await raw.copy_records_to_table(name, records=records, columns=cols)
            else:
                for i in range(0, len(rows), 5000):
                    await conn.execute(insert(table), rows[i : i + 5000])


async def run(db: str, n: int, runs: int, seed: int, keep: bool = False) -> dict[str, Any]:
    from sqlalchemy import func, select, text
    from sqlalchemy.ext.asyncio import async_sessionmaker

    import app.main  # noqa: F401  (registers every domain's models)
    from app.cases.models import Case
    from app.core.db import make_engine
    from app.matching.ranking import rank
    from app.organizations.models import Organization

    url, pg_name = _urls(db)
    pg = db == "postgres"
    if pg:
        await _pg_admin(f'CREATE DATABASE "{pg_name}"')
    try:
        await asyncio.to_thread(_migrate, url)
        engine = make_engine(url)
        rng = random.Random(seed)
        t0 = time.perf_counter()
        roster = await asyncio.to_thread(_roster, n, rng)
        now = datetime.now(UTC)
        orgs = [
            {
                "id": f"org_bench{i:03d}",
                "name": f"Clinic {i}",
                "country": "KE",
                "timezone": "Africa/Nairobi",
                "languages": ["sw", "en"],
                "local_resources": {"text": "", "tags": []},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(20)
        ]
        cols = {c.name for c in Organization.__table__.columns}  # type: ignore[attr-defined]
        orgs = [{k: v for k, v in o.items() if k in cols} for o in orgs]
        ids = [u["id"] for u in roster["user"]]
        history = await asyncio.to_thread(_cases, [o["id"] for o in orgs], ids, 50_000, rng)
        last: dict[str, datetime] = {}
        for c in history:
            sid = c["assigned_specialist_id"]
            last[sid] = max(last.get(sid, c["assigned_at"]), c["assigned_at"])
        for row in roster["specialist_profile"] + roster["specialist_specialty"]:
            row["last_assigned_at"] = last.get(row["user_id"])
        await _bulk(engine, {"organization": orgs}, pg)
        await _bulk(engine, roster, pg)
        await _bulk(engine, {"case": history}, pg)
        async with engine.connect() as conn:
            # Fresh statistics and visibility map, as autovacuum keeps them in production.
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE" if pg else "ANALYZE"))
        load_s = time.perf_counter() - t0

        case = Case(
            organization_id=orgs[0]["id"],
            specialty="dermatology",
            urgency="urgent",
            question="Spreading rash",
            patient_reference="P-bench",
            languages=["es", "qu"],
            consent_method="verbal",
            follow_up_of_id=history[0]["id"],
            respond_by=datetime.now(UTC) + timedelta(hours=24),
        )
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as s:
            s.add(case)
            await s.commit()
            pool = await s.scalar(
                select(func.count())
                .select_from(text("specialist_specialty"))
                .where(text("specialty = 'dermatology'"))
            )
        # The worst case too: a language nobody on the roster speaks, so the speakers-first
        # pass finds no one and everybody of the specialty is ranked.
        nobody = Case(
            organization_id=orgs[1]["id"],
            specialty="dermatology",
            urgency="routine",
            question="Rash",
            patient_reference="P-bench-2",
            languages=["ay"],
            consent_method="verbal",
            respond_by=datetime.now(UTC) + timedelta(hours=72),
        )
        async with maker() as s:
            s.add(nobody)
            await s.commit()
        timings, cpu, top = await _time(maker, case.id, runs, rank)
        timings2, _, top2 = await _time(maker, nobody.id, runs, rank)
        await engine.dispose()
        return {
            "db": db,
            "specialists": n,
            "in_specialty": pool,
            "runs": runs,
            "median_ms": statistics.median(timings),
            "p90_ms": timings[int(len(timings) * 0.9) - 1],
            "min_ms": timings[0],
            "load_s": load_s,
            "cpu_ms": statistics.median(cpu),
            "loadavg": os.getloadavg()[0],
            "top": [(c.specialist_id, round(c.score, 3)) for c in top.candidates[:3]],
            "nobody_median_ms": statistics.median(timings2),
            "nobody_interpreter": all(c.interpreter_needed for c in top2.candidates)
            and len(top2.candidates) == 20,
        }
    finally:
        if pg and keep:
            print(f"kept database {pg_name}")
        elif pg:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def _time(
    maker: Any, case_id: str, runs: int, rank: Any
) -> tuple[list[float], list[float], Any]:
    from app.cases.models import Case

    timings: list[float] = []
    cpu: list[float] = []
    top = None
    for i in range(runs + 3):
        async with maker() as s:
            row = await s.get(Case, case_id)
            t, c0 = time.perf_counter(), time.process_time()
            top = await rank(s, row, limit=20)
            elapsed = (time.perf_counter() - t) * 1000
            used = (time.process_time() - c0) * 1000
            await s.rollback()
        if i >= 3:  # warm-up: connection, statement caches
            timings.append(elapsed)
            cpu.append(used)
    timings.sort()
    return timings, cpu, top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--specialists", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = ap.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 32)
    r = asyncio.run(run(args.db, args.specialists, args.runs, args.seed, args.keep))
    print(
        f"ranking on {r['db']}: {r['specialists']:,} specialists "
        f"({r['in_specialty']:,} in the case's specialty), loaded in {r['load_s']:.1f} s"
    )
    print(
        f"  rank() top 20 over {r['runs']} runs: median {r['median_ms']:.1f} ms, "
        f"p90 {r['p90_ms']:.1f} ms, min {r['min_ms']:.1f} ms "
        f"({'PASS' if r['median_ms'] < 50 else 'FAIL'}: target median < 50 ms)"
    )
    print(
        f"  this process's CPU per ranking (median): {r['cpu_ms']:.1f} ms "
        f"({'all of the work on SQLite' if r['db'] == 'sqlite' else 'Python side only'}); "
        f"1-min load average during the run: {r['loadavg']:.1f} on {os.cpu_count()} cores"
    )
    print(f"  top 3: {r['top']}")
    print(
        f"  a case in a language nobody speaks (everyone ranked, all marked "
        f"interpreter_needed: {r['nobody_interpreter']}): median {r['nobody_median_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
