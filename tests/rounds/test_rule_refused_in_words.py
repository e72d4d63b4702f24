"""A rule that is not an RRULE is refused with a stable code beside its English detail
(`rrule_invalid` on /rrule), so that a client says it once, in its reader's language."""

from datetime import timedelta

from app.core.clock import utcnow
from app.core.principal import Role
from tests.rounds.support import API, make_round


def _body(org_id: str, rule: str) -> dict[str, object]:
    return {
        "title": "Skin rounds",
        "host_organization_id": org_id,
        "starts_at_local": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT09:00"),
        "rrule": rule,
        "specialty": "dermatology",
    }


async def test_a_rule_that_is_not_an_rrule_has_a_code(client, factory):
    org = await factory.make_org(name="Hospital San Roque", timezone="America/Argentina/Salta")
    h = factory.headers(await factory.make_user(Role.coordinator))
    for rule in (
        "FREQ=FORTNIGHTLY",
        "BYDAY=TU;COUNT=3",
        "FREQ=WEEKLY;BYDAY=XX",
        "WEEKLY ON TUESDAYS",
    ):
        r = await client.post(f"{API}/rounds", headers=h, json=_body(org.id, rule))
        assert r.status_code == 422, (rule, r.text)
        [error] = r.json()["errors"]
        assert error["pointer"] == "/rrule", rule
        assert error["code"] == "rrule_invalid", (rule, error)
        assert error["detail"], rule  # the English detail stays, for a developer
    # An end not in UTC is said as such.
    r = await client.post(
        f"{API}/rounds", headers=h, json=_body(org.id, "FREQ=WEEKLY;BYDAY=TU;UNTIL=20271231")
    )
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/rrule", "rrule_until_utc")
    ]
    # The same on an edit.
    rnd = await make_round(org.id, timezone="America/Argentina/Salta")
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json={"rrule": "FREQ=FORTNIGHTLY"})
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/rrule", "rrule_invalid")]
