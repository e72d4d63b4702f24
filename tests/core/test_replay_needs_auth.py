"""Authentication comes before replay, on every route: a token that is no longer valid gets
401 with an Idempotency-Key it used before, never the stored answer (issue 16)."""

import pytest
from sqlalchemy import update

from app.auth.models import User
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.cases.support import case_body
from tests.core.helpers import API, ORG, assert_problem


async def _end_sessions_of(user_id: str) -> None:
    async with sessionmaker()() as s:
        await s.execute(
            update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
        )
        await s.commit()


@pytest.mark.parametrize("route", ["organizations", "cases"])  # an ORM write and a fast-lane one
async def test_a_token_ended_since_gets_401_not_the_stored_answer(client, factory, route):
    org = await factory.make_org()
    if route == "cases":
        who = await factory.make_user(Role.clinician, organization_id=org.id)
        body = case_body()
    else:
        who = await factory.make_user(Role.admin)
        body = ORG
    h = {**factory.headers(who), "Idempotency-Key": f"replay-{route}"}
    first = await client.post(f"{API}/{route}", json=body, headers=h)
    assert first.status_code == 201, first.text
    replay = await client.post(f"{API}/{route}", json=body, headers=h)
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"

    await _end_sessions_of(who.id)
    refused = await client.post(f"{API}/{route}", json=body, headers=h)
    assert_problem(refused, 401, "unauthorized")
    assert "id" not in refused.json()
