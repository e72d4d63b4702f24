"""Lock-out as an attack (issue 16): a stranger must not lock a person out, and a clinic
behind one NAT address must not lock itself out by signing in.

Runs on the in-memory limiter, and on Redis when REDIS_URL is set (as .ci/run does).
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.core.config import get_settings
from app.core.principal import Role

API = "/api/v1"
PASSWORD = "correct-horse-battery"
CLINIC = "203.0.113.10"  # one NAT address for a whole clinic


async def _login(c: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await c.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


@asynccontextmanager
async def _from(app, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_a_stranger_elsewhere_cannot_lock_a_person_out(app, factory):
    victim = await factory.make_user(Role.specialist, password=PASSWORD)
    s = get_settings()
    async with _from(app, "198.51.100.66") as stranger:
        for _ in range(s.login_attempts_per_account):
            assert (await _login(stranger, victim.email, "not-it-at-all")).status_code == 400
        # The stranger is held back...
        assert (await _login(stranger, victim.email, "not-it-either")).status_code == 429
    # ...and the person, from their own address, signs in at once, whatever the stranger does.
    async with _from(app, CLINIC) as own:
        assert (await _login(own, victim.email, PASSWORD)).status_code == 200


async def test_a_botnet_cannot_lock_a_person_out_where_they_signed_in_before(
    app, factory, monkeypatch
):
    victim = await factory.make_user(Role.specialist, password=PASSWORD)
    s = get_settings()
    monkeypatch.setattr(s, "login_attempts_per_account_total", 8)  # a short attack will do
    async with _from(app, CLINIC) as own:
        assert (await _login(own, victim.email, PASSWORD)).status_code == 200
    # Guesses from many addresses, each under its own limit, exhaust the account's.
    for i in range(s.login_attempts_per_account_total):
        async with _from(app, f"10.66.{i // 250}.{i % 250 + 1}") as bot:
            assert (await _login(bot, victim.email, f"guess-{i}-wrong")).status_code == 400
    async with _from(app, "10.77.0.1") as bot:
        r = await _login(bot, victim.email, PASSWORD)  # even the right password, from there
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # Where the person signed in before, the right password still opens the account.
    async with _from(app, CLINIC) as own:
        assert (await _login(own, victim.email, PASSWORD)).status_code == 200


async def test_a_clinic_behind_one_address_does_not_lock_itself_out(app, factory):
    s = get_settings()
    staff = [
        await factory.make_user(
            Role.clinician, organization_id=(await factory.make_org()).id, password=PASSWORD
        )
        for _ in range(3)
    ]
    async with _from(app, CLINIC) as clinic:
        # A busy morning: far more sign-ins than the address's failure limit, all good.
        for i in range(s.login_attempts_per_address + s.login_attempts_per_account + 5):
            r = await _login(clinic, staff[i % 3].email, PASSWORD)
            assert r.status_code == 200, (i, r.text)
        # A few typos among them are failures, and are all that counts.
        for _ in range(s.login_attempts_per_account - 1):
            assert (await _login(clinic, staff[0].email, "typo-password")).status_code == 400
        assert (await _login(clinic, staff[0].email, PASSWORD)).status_code == 200


async def test_a_sprayer_sharing_the_clinic_address_does_not_lock_the_clinic_out(
    app, factory, monkeypatch
):
    s = get_settings()
    monkeypatch.setattr(s, "login_attempts_per_address", 6)
    nurse = await factory.make_user(
        Role.clinician, password=PASSWORD, organization_id=(await factory.make_org()).id
    )
    async with _from(app, CLINIC) as clinic:
        assert (await _login(clinic, nurse.email, PASSWORD)).status_code == 200
        # Someone on the same carrier NAT sprays other accounts until the address is held.
        for i in range(s.login_attempts_per_address):
            assert (await _login(clinic, f"nobody{i}@example.org", "spray-1234")).status_code == 400
        assert (await _login(clinic, "nobody-else@example.org", "spray-1234")).status_code == 429
        # The nurse, who signed in from here before, still gets in.
        assert (await _login(clinic, nurse.email, PASSWORD)).status_code == 200


async def test_parallel_guesses_do_not_slip_past_the_limit(app, factory):
    """Counted before the password is checked: a burst cannot all pass the check at once."""
    victim = await factory.make_user(Role.specialist, password=PASSWORD)
    limit = get_settings().login_attempts_per_account
    async with _from(app, "198.51.100.77") as attacker:
        answers = await asyncio.gather(
            *(_login(attacker, victim.email, f"burst-guess-{i}") for i in range(limit * 3))
        )
    statuses = Counter(r.status_code for r in answers)
    assert statuses[400] == limit, statuses
    assert statuses[429] == limit * 2, statuses
