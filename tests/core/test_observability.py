"""Operations: X-Request-ID on every answer, log line and problem body; one JSON log line
per request with the caller and the route template, never patient data; the worker's
passes logged; the domain's figures in Prometheus."""

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.core.clock import utcnow
from app.core.observability import JsonFormatter, _timestamp
from app.core.principal import Role
from tests.core.helpers import API, ORG, assert_problem


def _lines(caplog, logger: str) -> list[dict]:
    fmt = JsonFormatter()
    return [json.loads(fmt.format(r)) for r in caplog.records if r.name == logger]


async def test_a_request_id_is_taken_or_made_and_returned(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "partner-req-42"})
    assert r.headers["x-request-id"] == "partner-req-42"
    made = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    # Not plainly an id (spaces, a header injection attempt, too long): replaced, not echoed.
    for bad in ("two words", "x" * 200, "<script>"):
        r = await client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), bad


async def test_problem_bodies_carry_the_request_id(client):
    r = await client.get(f"{API}/me", headers={"X-Request-ID": "abc-123"})
    body = assert_problem(r, 401)
    assert body["request_id"] == "abc-123" == r.headers["x-request-id"]
    r = await client.get("/no/such/route")
    assert assert_problem(r, 404)["request_id"] == r.headers["x-request-id"]


async def test_one_json_line_per_request_with_caller_and_route_never_patient_data(
    client, factory, caplog
):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, patient_reference="MRN-SECRET-9")
    with caplog.at_level(logging.INFO, logger="app.access"):
        r = await client.get(
            f"{API}/cases/{case.id}",
            headers={**factory.headers(clinician), "X-Request-ID": "trace-1"},
        )
        assert r.status_code == 200
        # A query string is never logged (a route refuses parameters it does not read, so
        # the marker goes in one it reads).
        r = await client.get(
            f"{API}/follow-ups?case_id=MRN-SECRET-9",
            headers={**factory.headers(clinician), "X-Request-ID": "trace-2"},
        )
        assert r.status_code == 200
    [queried] = [ln for ln in _lines(caplog, "app.access") if ln.get("request_id") == "trace-2"]
    assert queried["route"] == "/api/v1/follow-ups" and "MRN-SECRET" not in json.dumps(queried)
    [line] = [ln for ln in _lines(caplog, "app.access") if ln.get("request_id") == "trace-1"]
    assert line["msg"] == "request" and line["level"] == "info"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/v1/cases/{case_id}"  # the template, not the id
    assert line["principal_id"] == clinician.id and line["principal_kind"] == "user"
    assert line["duration_ms"] >= 0
    text = json.dumps(line)
    assert case.id not in text and "MRN-SECRET" not in text


@given(st.floats(min_value=0, max_value=2**33, allow_nan=False))
@example(1350352558.5589998)  # rounds up to .559 at the microsecond, as datetime does
@example(1700000000.9999996)  # rounds up into the next second
def test_a_lines_time_is_written_as_datetime_writes_it(created):
    """The formatter keeps each second's text (a busy second writes many lines); what it
    writes is exactly `datetime.isoformat(timespec="milliseconds")` in UTC."""
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert _timestamp(created) == expected


async def test_every_log_line_in_a_request_carries_its_id(client, factory, caplog):
    admin = factory.headers(await factory.make_user(Role.admin))
    with caplog.at_level(logging.DEBUG):
        r = await client.post(
            f"{API}/organizations", json=ORG, headers={**admin, "X-Request-ID": "trace-2"}
        )
        assert r.status_code == 201
    mine = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-2"]
    assert any(r.name == "app.access" for r in mine)
    # Every line written while the request ran names it (an audit line, a SQL debug line).
    assert {r.name for r in mine} >= {"app.access"}


async def test_the_worker_logs_its_passes(app, factory, caplog, clock):
    from app import worker

    org = await factory.make_org()
    spec = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, status="offered")
    await factory.make_offer(case.id, spec.id, expires_at=utcnow() - timedelta(minutes=1))
    with caplog.at_level(logging.DEBUG, logger="app.worker"):
        fields = await worker.run_once()
    [line] = [ln for ln in _lines(caplog, "app.worker") if ln["msg"] == "worker pass"]
    assert line["jobs"] == len(worker.JOBS) and line["failed"] == [] and line["duration_ms"] >= 0
    assert line["did"] == fields["did"]
    assert any(name.startswith("matching.") for name in line["did"]), line  # the expiry ran
    assert line["level"] == "info"


def _sample(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name + labels)} ([0-9.e+-]+)$", text, re.M)
    assert m, f"{name}{labels} not in /metrics"
    return float(m.group(1))


async def test_domain_figures_in_prometheus(client, factory, clock):
    org = await factory.make_org()
    spec = await factory.make_user(Role.specialist)
    late = await factory.make_case(
        org.id, urgency="urgent", respond_by=utcnow() - timedelta(hours=1)
    )
    await factory.make_case(org.id, urgency="urgent", respond_by=utcnow() + timedelta(hours=1))
    await factory.make_case(
        org.id, urgency="urgent", status="answered", respond_by=utcnow() - timedelta(hours=1)
    )
    await factory.make_offer(late.id, spec.id)
    text = (await client.get("/metrics")).text
    assert _sample(text, "consult_cases_past_deadline", '{urgency="urgent"}') == 1
    assert _sample(text, "consult_cases_past_deadline", '{urgency="routine"}') == 0
    assert _sample(text, "consult_offers_pending") == 1
    for name in (
        "consult_outbox_lag_events",
        "consult_outbox_lag_seconds",
        "consult_outbox_unpublished_events",
        "consult_webhook_backlog",
        "consult_webhook_oldest_pending_seconds",
        "consult_db_pool_in_use",
    ):
        assert _sample(text, name) >= 0
    assert _sample(text, "consult_live_sockets", '{kind="room"}') == 0
    assert _sample(text, "consult_metrics_collect_errors") == 0
    assert "# TYPE consult_webhook_backlog gauge" in text


async def test_the_grafana_dashboard_plots_figures_the_service_reports(client):
    from pathlib import Path

    dash = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = set(re.findall(r"\b(consult_[a-z_]+|http_[a-z_]+)", " ".join(exprs)))
    text = (await client.get("/metrics")).text
    # The notifications domain reports its backlog where it exists in the deployment.
    missing = {n for n in names if f"\n{n}" not in text and f"# TYPE {n} " not in text}
    assert missing <= {"consult_notification_backlog"}, missing
    assert len(names) >= 12


@pytest.mark.parametrize("on", [False, True])
async def test_fastapis_opentelemetry_runs_only_when_asked(app, monkeypatch, on):
    """Off by default (the service reports through /metrics and its logs): no request pays
    for looking up OpenTelemetry providers. OPENTELEMETRY=true hands requests to FastAPI's
    own instrumentation, which consults the global tracer provider."""
    import httpx
    from opentelemetry import trace

    from app import main
    from app.core.config import Settings, get_settings

    assert Settings.model_fields["opentelemetry"].default is False
    asked: list[object] = []
    real = trace.get_tracer_provider

    def counting() -> object:
        asked.append(1)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counting)
    settings = get_settings().model_copy(update={"opentelemetry": on})
    monkeypatch.setattr(main, "get_settings", lambda: settings)
    transport = httpx.ASGITransport(app=main.create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/api/v1/me")
    assert r.status_code == 401
    assert bool(asked) is on
