"""A fuzz run over every operation on real resources, as each kind of caller, with valid
and with malformed input (issue 16): whatever comes, the answer is never a server error.

The same in-process bridge as tests/test_schemathesis.py; here every path parameter that
names a resource is fixed to a real one, so generated requests get past the 404 to the work.
"""

import asyncio
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from app.core.principal import Role
from tests.test_schemathesis import BY_GROUP, SKIP_PATHS, _bridge, group_of
from tests.timing import T0


def _fuzz(
    app: Any,
    loop: asyncio.AbstractEventLoop,
    callers: dict[str, dict[str, str]],
    select: Callable[[str], bool],
    *,
    ids: dict[str, str] | None = None,
    mode: GenerationMode = GenerationMode.POSITIVE,
    checks: list[Any],
    examples: int,
) -> tuple[list[str], int]:
    """Generated requests for every selected operation, each sent as every caller; `ids`
    fixes the path parameters it names (real resources, so the requests get past the 404 to
    the work). The schema and each operation's strategy are built once for all callers:
    building them was most of the run's time."""
    from schemathesis.python.asgi import shutdown_lifespans

    schema = schemathesis.openapi.from_asgi("/openapi.json", _bridge(app, loop))
    failures: dict[tuple[str, str], str] = {}  # each caller's first failure per operation
    checked = 0
    try:
        for result in schema.get_all_operations():
            op = result.ok()
            if not select(op.path) or any(s in op.path for s in SKIP_PATHS):
                continue
            checked += 1
            names = {p.name for p in op.path_parameters}
            fixed = {k: v for k, v in (ids or {}).items() if k in names} or None
            label = f"{op.method.upper()} {op.path}"

            @given(case=op.as_strategy(mode, path_parameters=fixed))
            @hyp_settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                # `label` is this iteration's: check() runs right below, before it changes.
                for name, headers in callers.items():
                    if (name, label) in failures:  # noqa: B023
                        continue
                    try:
                        response = case.call(headers=headers)
                        case.validate_response(response, checks=checks)
                    except (Exception, BaseExceptionGroup) as e:
                        failures[(name, label)] = f"[{name}] {label}: {e}"[:1600]  # noqa: B023

            try:
                check()
            except Unsatisfiable:  # nothing of this operation can be made malformed
                continue
    finally:
        shutdown_lifespans()
    return list(failures.values()), checked


async def _world(client: Any, factory: Any) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Real resources of every kind a path names, and the people who may act on them."""
    from tests.notes.helpers import note_world, write_note
    from tests.rounds.support import make_round

    w = await note_world(factory)
    coordinator = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    partner = await factory.make_client(w.org.id)
    offer = await factory.make_offer(
        (await factory.make_case(w.org.id, submitted_by_id=w.clinician.id)).id, w.specialist.id
    )
    note = await write_note(client, factory, w)
    spec, clin = factory.headers(w.specialist), factory.headers(w.clinician)
    r = await client.post(
        f"/api/v1/cases/{w.case.id}/follow-ups",
        headers=spec,
        json={
            "due_at": (T0 + timedelta(days=30)).isoformat(),
            "description": "x",
            "assignee_id": w.clinician.id,
        },
    )
    assert r.status_code == 201, r.text
    follow_up = r.json()["id"]
    r = await client.post(
        f"/api/v1/cases/{w.case.id}/attachments",
        files={"file": ("a.pdf", b"%PDF-1.7\n" + bytes(64), "application/pdf")},
        headers=clin,
    )
    assert r.status_code == 201, r.text
    attachment = r.json()["id"]
    series = await make_round(w.org.id, participants=[(w.specialist.id, "presenter")])
    r = await client.get(
        f"/api/v1/rounds/{series.id}/occurrences",
        params={"from": (T0 - timedelta(days=60)).isoformat()},
        headers=clin,
    )
    assert r.status_code == 200 and r.json()["items"], r.text
    start = r.json()["items"][0]["start"]
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://partner.example.org/hook", "events": ["case.assigned"]},
        headers=factory.headers(partner),
    )
    assert r.status_code == 201, r.text
    ids = {
        "case_id": w.case.id,
        "note_id": note["id"],
        "offer_id": offer.id,
        "follow_up_id": follow_up,
        "attachment_id": attachment,
        "round_id": series.id,
        "start": start,
        "occurrence_id": f"{series.id}_{start}",
        "webhook_id": r.json()["id"],
        "user_id": w.clinician.id,
        "organization_id": w.org.id,
        "specialist_id": w.specialist.id,
    }
    who = {
        "clinician": clin,
        "specialist": spec,
        "coordinator": factory.headers(coordinator),
        "admin": factory.headers(admin),
        "partner": factory.headers(partner),
    }
    return ids, who


# A fuzz run over every operation on real resources, as each kind of caller, with valid
# and with malformed input (issue 16): whatever comes, the answer is never a server error.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Operations each group must reach (108 in all on 2026-12-05): a filter that quietly lost
# operations would fail here.
AT_LEAST = {"cases": 25, "rounds": 20, "partners": 20, "others": 30}


@BY_GROUP
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
async def test_no_input_from_anyone_makes_a_server_error(app, client, factory, mode, group):
    ids, who = await _world(client, factory)
    loop = asyncio.get_running_loop()
    failures, checked = await asyncio.to_thread(
        _fuzz,
        app,
        loop,
        who,
        lambda path: group_of(path) == group,
        ids=ids,
        mode=mode,
        checks=[not_a_server_error],
        examples=FUZZ_EXAMPLES,
    )
    assert checked >= AT_LEAST[group], checked
    assert failures == [], "\n\n".join(failures)
