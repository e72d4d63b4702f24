"""Every answer may carry patient data: none is cached, none is type-sniffed."""

from app.core.principal import Role

API = "/api/v1"


async def test_reads_writes_and_errors_carry_no_store_and_nosniff(client, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clinician)
    case = await factory.make_case(org.id)
    answers = [
        await client.get(f"{API}/cases/{case.id}", headers=h),
        await client.get(f"{API}/cases", headers=h),
        await client.get(f"{API}/me", headers=h),
        await client.get(f"{API}/cases/case_missing", headers=h),
        await client.get(f"{API}/cases"),  # 401
        await client.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 401, 200]
    for a in answers:
        assert a.headers["cache-control"] == "no-store", a.request.url
        assert a.headers["x-content-type-options"] == "nosniff", a.request.url


async def test_a_route_that_sets_its_own_cache_policy_keeps_it(client, factory):
    from tests.cases.factories import make_attachment

    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id)
    att = await make_attachment(case.id)
    r = await client.get(f"{API}/attachments/{att.id}/content", headers=factory.headers(clinician))
    assert r.status_code == 200
    assert r.headers.get_list("cache-control") == ["private, no-store"]
