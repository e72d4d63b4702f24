"""A revocation on one process closes the subject's sockets on every other (Redis bus)."""

import secrets

import httpx

from app.core.principal import Role
from tests.realtime.support import API, ServerProcess, open_socket, redis_url


async def test_attack_a_token_revoked_on_one_process_dies_on_the_other(database_url, factory):
    url = redis_url()
    # The periodic sweep is an hour away: only the bus can close the socket in time.
    env = {
        "REDIS_URL": url,
        "WS_CHANNEL": "test:" + secrets.token_hex(4),
        "WS_RECHECK_SECONDS": "3600",
    }
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    admin = await factory.make_user(Role.admin)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    token = factory.token(clinician)
    async with ServerProcess(database_url, **env) as a, ServerProcess(database_url, **env) as b:
        room = await open_socket(b.host, f"/ws/cases/{case.id}", token, after_seq=0)
        inbox = await open_socket(b.host, "/ws/inbox", token)
        async with httpx.AsyncClient(base_url=f"http://{a.host}{API}") as c:
            assert (await c.post("/auth/revoke", data={"token": token})).status_code == 200
        assert (await room.closed(within=5))[0] == 4401
        assert (await inbox.closed(within=5))[0] == 4401
        # Deactivation (every token of the user) travels the same way.
        fresh = await open_socket(b.host, "/ws/inbox", factory.token(clinician))
        async with httpx.AsyncClient(base_url=f"http://{a.host}{API}") as c:
            r = await c.patch(
                f"/users/{clinician.id}", json={"active": False}, headers=factory.headers(admin)
            )
            assert r.status_code == 200, r.text
        assert (await fresh.closed(within=5))[0] == 4401
