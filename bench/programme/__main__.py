"""A simulated programme: `python -m bench.programme` (`make programme`).

Builds a network through the public API on a fresh database and the real server (uvicorn,
its own processes: one on SQLite, two behind Redis on PostgreSQL), replays a year of
consults on it with the programme's clock stepped from event to event (CLOCK_FILE), then
writes the report (PROGRAMME_OUT, default programme-report/): the measures of
GET /metrics/quality beside MSF's and Swinfen's published figures, what-if runs side by
side (half the specialists; notifications off; no interpreter; shorter, see
--what-if-weeks), the server's cost, the assumptions, and PNG charts.
"""

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.harness import SECRET


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.programme", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--specialists", type=int, default=280)
    ap.add_argument("--cases-per-week", type=float, default=18.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--what-if-weeks", type=int, default=8,
                    help="length of each what-if run (0: none); the baseline is measured "
                    "over its own first weeks for the comparison")  # fmt: skip
    ap.add_argument("--out", type=Path,
                    default=Path(os.environ.get("PROGRAMME_OUT", "programme-report")))  # fmt: skip
    args = ap.parse_args(argv)
    # This process signs nothing, but runs the worker: the server's settings, set before
    # anything reads them.
    os.environ.update({"SECRET_KEY": SECRET, "ENVIRONMENT": "test", "DEMO_DATA": "false"})
    from bench.programme import report
    from bench.programme.model import Params
    from bench.programme.run import on_server, what_ifs

    p = Params(weeks=args.weeks, specialists=args.specialists,
               cases_per_week=args.cases_per_week, seed=args.seed)  # fmt: skip
    t0 = time.perf_counter()
    snap = args.what_if_weeks if 0 < args.what_if_weeks < args.weeks else 0
    # The what-ifs run in a process of their own beside the year: the year steps its server
    # and worker in lockstep, one core's worth, so the second core is otherwise idle.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        later = pool.submit(what_ifs, p, args.db, snap) if snap else None
        print(f"# the year: {p.weeks} weeks, {p.specialists} specialists, {args.db}", flush=True)
        base = asyncio.run(on_server(p, args.db, snapshot_weeks=snap))
        print(f"  the year: set-up {base['setup_s']} s, run {base['run_s']} s", flush=True)
        others = later.result() if later is not None else {}
    printed, charts = report.write(args.out, base, others, snap)
    print()
    print(printed)
    total = time.perf_counter() - t0
    print(f"\nreport: {args.out / 'report.md'} (charts: {', '.join(charts)}); {total:.0f} s in all")
    return 1 if base["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
