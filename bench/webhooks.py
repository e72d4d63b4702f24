"""Webhook delivery figures: `.venv/bin/python -m bench.webhooks [--db postgres]`.

Starts a fresh database, a partner's receiver on 127.0.0.1 (uvicorn, in this process) and
the standalone dispatcher (`python -m app.partners.dispatcher`, its own process), then:

1. latency: commits a case (case row + outbox event, one transaction) 50 times a second and
   measures commit -> arrival at the receiver (p50, p99, max);
2. backlog: stops the receiver, commits 10,000 events, brings the receiver back after the
   outage and times until every event has arrived, checking the order (the dispatcher
   probes an unreachable endpoint about every 10 s);
3. optionally (--long-outage) the same, with the partner calling `retry` on its oldest
   pending delivery as soon as it is back.
"""

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from bench.harness import ROOT, SECRET, _pg, make_database, migrate
from tests.partners.support import free_socket


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.order: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        rid = json.loads(body)["data"]["resource_id"]
        self.arrived.setdefault(rid, time.time())
        self.order.append(rid)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Served:
    def __init__(self, app: Receiver, port: int | None = None) -> None:
        self.sock = free_socket() if port is None else _bind(port)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        for _ in range(500):
            if self.server.started:
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task:
            await self.task
        self.sock.close()


def _bind(port: int) -> Any:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    return s


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def _setup(port: int) -> tuple[Any, Any]:
    from app.core.db import sessionmaker
    from app.partners.models import WebhookEndpoint
    from app.partners.signing import new_secret
    from tests.factories import Factory

    f = Factory()
    org = await f.make_org()
    partner = await f.make_client(org.id)
    async with sessionmaker()() as s:
        ep = WebhookEndpoint(
            owner_kind="client",
            owner_id=partner.id,
            organization_id=org.id,
            url=f"http://127.0.0.1:{port}/hook",
            events=["case.submitted"],
            secret=new_secret(),
        )
        s.add(ep)
        await s.commit()
    return org, partner


async def _commit_case(org_id: str, n: int) -> str:
    from app.cases.models import Case
    from app.core.db import sessionmaker
    from app.events.service import emit

    async with sessionmaker()() as s:
        case = Case(
            organization_id=org_id,
            specialty="dermatology",
            urgency="routine",
            question="Rash?",
            patient_reference=f"MRN-{n}",
            consent_method="verbal",
            respond_by=datetime.now(UTC) + timedelta(hours=72),
        )
        s.add(case)
        await emit(
            s,
            "case.submitted",
            "case",
            case.id,
            organization_id=org_id,
            payload={"case_id": case.id, "status": "submitted"},
        )
        await s.commit()
        return case.id


async def latency(org_id: str, rec: Receiver, rate: float, seconds: float) -> dict[str, float]:
    committed: dict[str, float] = {}
    start = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        cid = await _commit_case(org_id, i)
        committed[cid] = time.time()
    achieved = total / (time.monotonic() - start)
    for _ in range(600):
        if all(c in rec.arrived for c in committed):
            break
        await asyncio.sleep(0.05)
    lat = [(rec.arrived[c] - t) * 1000 for c, t in committed.items() if c in rec.arrived]
    return {
        "events": total,
        "rate": achieved,
        "delivered": len(lat),
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "max_ms": max(lat),
    }


async def _queue(org_id: str, n: int, tag: str) -> list[str]:
    from app.core.db import sessionmaker
    from app.events.service import emit

    ids = [f"{tag}_{i:05d}" for i in range(n)]
    for chunk in range(0, n, 500):
        async with sessionmaker()() as s:
            for rid in ids[chunk : chunk + 500]:
                await emit(
                    s,
                    "case.submitted",
                    "case",
                    rid,
                    organization_id=org_id,
                    payload={"case_id": rid},
                )
            await s.commit()
    return ids


async def backlog(
    org_id: str,
    partner: Any,
    served: Served,
    rec: Receiver,
    n: int,
    outage: float,
    tag: str,
    partner_retries: bool,
) -> dict[str, float]:
    from sqlalchemy import select

    from app.core.db import sessionmaker
    from app.core.principal import Principal, Role
    from app.partners import service
    from app.partners.models import WebhookDelivery

    await served.stop()
    down = time.monotonic()
    ids = await _queue(org_id, n, tag)
    queued_in = time.monotonic() - down
    await asyncio.sleep(max(0.0, outage - (time.monotonic() - down)))
    back_served = Served(rec, served.port)
    await back_served.start()
    back = time.time()
    if partner_retries:
        # What a partner does when it is back: retry its oldest pending delivery.
        p = Principal(
            id=partner.id,
            kind="client",
            role=Role.clinician,
            organization_id=partner.organization_id,
            scopes=frozenset(partner.scopes),
        )
        async with sessionmaker()() as s:
            head = (
                await s.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.status == "pending")
                    .order_by(WebhookDelivery.event_id)
                )
            ).first()
            if head is not None:
                await service.retry(s, p, head.endpoint_id, head.id)
                await s.commit()
    for _ in range(int(300 / 0.05)):
        if all(i in rec.arrived for i in ids):
            break
        await asyncio.sleep(0.05)
    got = [rid for rid in rec.order if rid.startswith(tag)]
    first_seen = list(dict.fromkeys(got))
    last = max((rec.arrived[i] for i in ids if i in rec.arrived), default=float("nan"))
    return {
        "events": n,
        "queued_in_s": queued_in,
        "outage_s": outage,
        "delivered": sum(1 for i in ids if i in rec.arrived),
        "in_order": float(first_seen == ids),
        "duplicates": len(got) - len(first_seen),
        "drained_s_after_back": last - back,
        "server": back_served,
    }


async def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from app.core.db import dispose_engine, init_engine

    init_engine(url)
    rec = Receiver()
    served = Served(rec)
    await served.start()
    org, partner = await _setup(served.port)
    env = {**os.environ, "DATABASE_URL": url}
    log = await asyncio.to_thread(open, args.dispatcher_log, "wb")
    dispatcher = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.partners.dispatcher",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    try:
        await asyncio.sleep(2)  # let the dispatcher start
        out: dict[str, Any] = {"latency": await latency(org.id, rec, args.rate, args.seconds)}
        if args.outage:
            short = await backlog(
                org.id,
                partner,
                served,
                rec,
                args.backlog,
                args.outage,
                "outage",
                partner_retries=False,
            )
            served = short.pop("server")
            out["backlog_after_outage"] = short
        if args.long_outage:
            long = await backlog(
                org.id,
                partner,
                served,
                rec,
                args.backlog,
                args.long_outage,
                "long",
                partner_retries=True,
            )
            served = long.pop("server")
            out["backlog_long_outage_partner_retry"] = long
        return out
    finally:
        dispatcher.terminate()
        await dispatcher.wait()
        log.close()
        await served.stop()
        await dispose_engine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--backlog", type=int, default=10_000)
    ap.add_argument(
        "--outage",
        type=float,
        default=15.0,
        help="receiver down this long; the dispatcher finds it back by itself",
    )
    ap.add_argument("--dispatcher-log", default="/tmp/bench-webhooks-dispatcher.log")
    ap.add_argument(
        "--long-outage",
        type=float,
        default=0.0,
        help="a second outage after which the partner calls retry (0: skip)",
    )
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    url, pg_name = make_database(args, workdir)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "RUN_WORKER": "false",
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "DEMO_DATA": "false",
            "ENVIRONMENT": "development",
            "RATE_LIMIT_REQUESTS": "1000000000",  # measured, never the limit
        }
    )
    try:
        migrate(url)
        t0 = time.time()
        figures = asyncio.run(bench(url, args))
        figures["database"] = "postgresql" if pg_name else "sqlite"
        figures["when"] = datetime.now(UTC).isoformat(timespec="seconds")
        figures["cpus"] = os.cpu_count()
        figures["wall_s"] = round(time.time() - t0, 1)
        print(json.dumps(figures, indent=2, default=lambda v: round(v, 1)))
        lat = figures["latency"]
        ok = lat["p99_ms"] < 1000 and lat["delivered"] == lat["events"]
        verdict = [f"p99 {lat['p99_ms']:.0f} ms at {lat['rate']:.0f}/s"]
        for key in ("backlog_after_outage", "backlog_long_outage_partner_retry"):
            if key in figures:
                b = figures[key]
                ok = (
                    ok
                    and b["delivered"] == b["events"]
                    and b["in_order"] == 1.0
                    and b["drained_s_after_back"] < 60
                )
                verdict.append(
                    f"{key}: {b['delivered']}/{b['events']} in "
                    f"{b['drained_s_after_back']:.1f} s after the receiver was back"
                )
        print("PASS" if ok else "FAIL", "; ".join(verdict))
    finally:
        if pg_name:
            asyncio.run(_pg(url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
