"""The simulated programme (bench/programme) end to end, tiny: two weeks, a dozen
specialists, against the app in this process (its clock stepped by the simulation), then
the report's files and its figures checked against GET /metrics/quality."""

import json
import math
from datetime import timedelta

import httpx

from app.core.config import get_settings
from bench.programme import report
from bench.programme.model import Params
from bench.programme.run import START, in_process, iso


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


async def test_a_tiny_programme_runs_and_reports_the_servers_own_measures(app, tmp_path):
    p = Params(weeks=2, specialists=12, cases_per_week=6, seed=3)
    mail = get_settings().data_dir / "mail"
    run = await in_process(app, p, mail)

    assert run["errors"] == []
    assert run["tally"]["accepted"] > 0
    q = run["quality"]
    assert q["cases_submitted"] == len(run["cases"]) > 0
    assert q["time_to_accept"]["count"] > 0 and q["time_to_signed_note"]["count"] > 0

    out = tmp_path / "report"
    printed, charts = report.write(out, run, {}, 0)
    assert (out / "report.md").is_file() and (out / "results.json").is_file()
    for name in charts:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"distributions.png", "weekly.png"} <= set(charts)

    # The report's figures are the server's: ask /metrics/quality again, as a coordinator.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        from app.core.principal import Role
        from tests.factories import Factory

        f = Factory()
        coordinator = await f.make_user(Role.coordinator)
        end = START + timedelta(weeks=p.weeks)
        r = await client.get(
            "/api/v1/metrics/quality",
            params={"from": iso(START), "to": iso(end)},
            headers=f.headers(coordinator),
        )
    assert r.status_code == 200
    fresh = r.json()
    m = report.measures(run)
    assert m["cases"] == fresh["cases_submitted"]
    assert m["accept_h"] == round(fresh["time_to_accept"]["median_minutes"] / 60, 2)
    assert m["within_72h"] == fresh["answered_within_72h_rate"]
    assert m["notes_acknowledged"] == fresh["notes_acknowledged_rate"]
    for key in ("accept_h", "signed_h", "within_72h", "within_sla", "offer_acceptance"):
        assert _number(m[key]), key
    saved = json.loads((out / "results.json").read_text())["baseline"]["quality"]
    assert saved["cases_submitted"] == fresh["cases_submitted"]
    assert "This service (simulated)" in printed and "MSF" in printed
