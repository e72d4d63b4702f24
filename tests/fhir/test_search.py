"""FHIR type-level search: true totals, paging links, the parameters each type supports,
_count clamped, unknown parameters ignored (or refused under Prefer: handling=strict),
versions and ETags, and the CapabilityStatement. Every Bundle is parsed by fhir.resources."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.servicerequest import ServiceRequest

from app.core.principal import Role
from app.fhir.resources import fhir_id
from app.fhir.search import MAX_COUNT
from tests.partners.support import API

FHIR = f"{API}/fhir"


def _local(url: str) -> str:
    """A Bundle link (absolute, on the test server) as a path for the ASGI client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def bundle(client, url: str, headers: dict[str, str]) -> Bundle:
    r = await client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return Bundle.model_validate(r.json())


def _next(b: Bundle) -> str | None:
    return next((link.url for link in b.link if link.relation == "next"), None)


def _self(b: Bundle) -> str:
    return next(link.url for link in b.link if link.relation == "self")


async def _all_pages(client, url: str, headers: dict[str, str]) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals: set[int] = set()
    while url:
        b = await bundle(client, url, headers)
        totals.add(b.total)
        ids += [e.resource.id for e in b.entry or []]
        nxt = _next(b)
        url = _local(nxt) if nxt else ""
    return ids, totals


async def test_total_is_every_match_and_next_pages_through_them(client, factory, clock):
    org, other = await factory.make_org(), await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    mine = []
    for _ in range(5):
        mine.append((await factory.make_case(org.id)).id)
        clock.advance(timedelta(minutes=1))
    await factory.make_case(other.id)  # another facility's: never counted
    h = factory.headers(clin)
    first = await bundle(client, f"{FHIR}/ServiceRequest?_count=2", h)
    assert first.total == 5 and len(first.entry) == 2  # the true total, not the page size
    assert all(isinstance(e.resource, ServiceRequest) for e in first.entry)
    ids, totals = await _all_pages(client, f"{FHIR}/ServiceRequest?_count=2", h)
    assert ids == [fhir_id(c) for c in reversed(mine)] and totals == {5}  # newest first
    tasks, _ = await _all_pages(client, f"{FHIR}/Task?_count=3", h)
    assert tasks == ids
    # _count=0: the total alone.
    only = await bundle(client, f"{FHIR}/Task?_count=0", h)
    assert only.total == 5 and not only.entry and _next(only) is None


async def test_status_dates_and_references_filter(client, factory, clock):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    start = clock.now()
    await factory.make_case(org.id)
    clock.advance(timedelta(days=2))
    assigned = await factory.make_case(org.id, status="assigned", assigned_specialist_id=spec.id)
    closed = await factory.make_case(org.id, status="closed", assigned_specialist_id=spec.id)
    cancelled = await factory.make_case(org.id, status="cancelled")
    h = factory.headers(clin)

    async def ids(query: str, kind: str = "Task") -> set[str]:
        b = await bundle(client, f"{FHIR}/{kind}?{query}", h)
        assert b.total == len(b.entry or [])
        return {e.resource.id for e in b.entry or []}

    assert await ids("status=accepted,completed") == {fhir_id(assigned.id), fhir_id(closed.id)}
    assert await ids("status=revoked", "ServiceRequest") == {fhir_id(cancelled.id)}
    assert len(await ids("status=active", "ServiceRequest")) == 2
    day = (start + timedelta(days=1)).date().isoformat()
    assert len(await ids(f"_lastUpdated=ge{day}")) == 3
    assert len(await ids(f"_lastUpdated=lt{day}")) == 1
    assert await ids(f"_lastUpdated=ge{day}&_lastUpdated=le{day}") == set()  # both must hold
    assert await ids(f"owner=Practitioner/{fhir_id(spec.id)}") == {
        fhir_id(assigned.id),
        fhir_id(closed.id),
    }
    assert len(await ids(f"performer={spec.id}", "ServiceRequest")) == 2
    assert len(await ids(f"requester=Organization/{fhir_id(org.id)}", "ServiceRequest")) == 4
    assert await ids("requester=Organization/org-nothing", "ServiceRequest") == set()


async def test_count_is_clamped_and_unknown_parameters_are_ignored_unless_strict(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    await factory.make_case(org.id)
    h = factory.headers(clin)
    b = await bundle(client, f"{FHIR}/ServiceRequest?_count=100000&colour=blue&_pretty=true", h)
    assert b.total == 1
    used = parse_qs(urlsplit(_self(b)).query)
    assert used == {"_count": [str(MAX_COUNT)]}  # clamped; the ignored ones are left out
    strict = await client.get(
        f"{FHIR}/ServiceRequest?colour=blue&status=active",
        headers={**h, "Prefer": "handling=strict"},
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith("application/fhir+json")
    oo = OperationOutcome.model_validate(strict.json())
    assert [i.expression for i in oo.issue] == [["colour"]]
    lenient = await client.get(
        f"{FHIR}/ServiceRequest?colour=blue", headers={**h, "Prefer": "handling=lenient"}
    )
    assert lenient.status_code == 200
    # A malformed value of a supported parameter is an error, whatever the preference.
    # A NUL character (found by the fuzz run: it answered problem+json) is one too.
    malformed = (
        "_count=-1",
        "_count=many",
        "status=sleeping",
        "_lastUpdated=2026-02-30",
        "owner=a%00",
    )
    for bad in malformed:
        r = await client.get(f"{FHIR}/Task?{bad}", headers=h)
        assert r.status_code == 400, bad
        assert r.headers["content-type"].startswith("application/fhir+json"), bad
        assert OperationOutcome.model_validate(r.json()).issue[0].severity == "error"
    tampered = await client.get(f"{FHIR}/Task?_cursor=eyJhIjoxfQ.0123456789abcdef", headers=h)
    assert tampered.status_code == 400 and tampered.json()["resourceType"] == "OperationOutcome"


async def test_reads_carry_the_version_as_etag_and_answer_304(client, factory):
    from app.core.db import sessionmaker

    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id)
    h = factory.headers(clin)
    for kind in ("ServiceRequest", "Task"):
        r = await client.get(f"{FHIR}/{kind}/{case.id}", headers=h)
        assert r.json()["meta"]["versionId"] == str(case.version)
        assert r.headers["etag"] == f'W/"{case.version}"'
        again = await client.get(
            f"{FHIR}/{kind}/{case.id}", headers={**h, "If-None-Match": r.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == r.headers["etag"]
    from app.cases.models import Case

    async with sessionmaker()() as s:
        row = await s.get(Case, case.id)
        row.version += 1
        await s.commit()
    changed = await client.get(
        f"{FHIR}/Task/{case.id}", headers={**h, "If-None-Match": f'W/"{case.version}"'}
    )
    assert changed.status_code == 200 and changed.json()["meta"]["versionId"] == str(
        case.version + 1
    )
    o = await client.get(f"{FHIR}/Organization/{org.id}", headers=h)
    Organization.model_validate(o.json())
    assert o.headers["etag"] == f'W/"{o.json()["meta"]["versionId"]}"'
    same = await client.get(
        f"{FHIR}/Organization/{org.id}", headers={**h, "If-None-Match": o.headers["etag"]}
    )
    assert same.status_code == 304


async def test_practitioners_and_organizations_follow_their_domains_rules(client, factory):
    org_a = await factory.make_org(name="San Roque Mission Hospital", country="AR")
    org_b = await factory.make_org(name="Hospital Kathmandu", country="NP")
    clin_a = await factory.make_user(Role.clinician, organization_id=org_a.id, name="Ana Ruiz")
    clin_b = await factory.make_user(Role.clinician, organization_id=org_b.id, name="Anil Rai")
    spec = await factory.make_user(Role.specialist, name="Dr Maria Anand")
    admin = await factory.make_user(Role.admin)
    h = factory.headers(clin_a)
    names = {
        e.resource.name[0].text
        for e in (await bundle(client, f"{FHIR}/Practitioner?name=an", h)).entry or []
    }
    # Another facility's clinician is not shown to clin_a; a word of the name matches.
    assert "Ana Ruiz" in names and "Dr Maria Anand" in names and "Anil Rai" not in names
    assert (await client.get(f"{FHIR}/Practitioner/{clin_b.id}", headers=h)).status_code == 404
    assert (await client.get(f"{FHIR}/Practitioner/{spec.id}", headers=h)).status_code == 200
    orgs = await bundle(client, f"{FHIR}/Organization?name=hosp", h)
    assert [e.resource.name for e in orgs.entry] == ["San Roque Mission Hospital"]
    assert orgs.total == 1
    seen = await bundle(client, f"{FHIR}/Organization?name=hosp", factory.headers(admin))
    assert seen.total == 2
    np = await bundle(client, f"{FHIR}/Organization?address-country=np", factory.headers(admin))
    assert [e.resource.name for e in np.entry] == ["Hospital Kathmandu"]
    assert (await client.get(f"{FHIR}/Organization/{org_b.id}", headers=h)).status_code == 404


async def test_appointment_search_by_date(client, factory, clock):
    day = (clock.now() + timedelta(days=8)).date()
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    outsider = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    coordinator = await factory.make_user(Role.coordinator)
    r = await client.post(
        f"{API}/rounds",
        headers=factory.headers(coordinator),
        json={
            "title": "Dermatology round",
            "host_organization_id": org.id,
            "timezone": "UTC",
            "starts_at_local": f"{day}T09:00",
            "duration_minutes": 60,
            "rrule": "FREQ=DAILY;COUNT=10",
            "specialty": "dermatology",
        },
    )
    assert r.status_code == 201, r.text
    h = factory.headers(clin)
    window = f"date=ge{day}&date=lt{day + timedelta(days=7)}"
    ids, totals = await _all_pages(client, f"{FHIR}/Appointment?{window}&_count=3", h)
    assert len(ids) == 7 and len(set(ids)) == 7 and totals == {7}
    everything = await bundle(client, f"{FHIR}/Appointment?_count=0", h)
    assert everything.total == 10  # from now, 90 days ahead
    one_day = await bundle(client, f"{FHIR}/Appointment?date={day + timedelta(days=2)}", h)
    assert one_day.total == 1
    assert one_day.entry[0].resource.start.date() == day + timedelta(days=2)
    assert (await bundle(client, f"{FHIR}/Appointment?status=cancelled", h)).total == 0
    hidden = await bundle(client, f"{FHIR}/Appointment", factory.headers(outsider))
    assert hidden.total == 0


async def test_capability_statement_lists_what_the_routes_serve(client, app):
    r = await client.get(f"{FHIR}/metadata")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    cs = CapabilityStatement.model_validate(r.json())
    assert cs.fhirVersion == "4.0.1" and cs.kind == "instance"
    rest = cs.rest[0]
    served = {res.type: {p.name for p in res.searchParam} for res in rest.resource}
    assert set(served) == {
        "ServiceRequest",
        "Task",
        "Communication",
        "DocumentReference",
        "Practitioner",
        "Organization",
        "Appointment",
    }
    paths = (await client.get("/openapi.json")).json()["paths"]
    for kind, names in served.items():
        assert f"{FHIR}/{kind}/{{" in " ".join(paths), kind  # the read
        query = {
            p["name"] for p in paths[f"{FHIR}/{kind}"]["get"]["parameters"] if p["in"] == "query"
        }
        assert names <= query, (kind, names - query)  # every advertised parameter is served


async def test_a_malformed_parameter_is_explained_in_words(client, factory):
    """Its diagnostics say what the parameter takes, not the regular expression that
    checked it (a partner developer met a long pattern there)."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)
    r = await client.get(f"{FHIR}/Task?status=sleeping", headers=h)
    assert r.status_code == 400
    [issue] = OperationOutcome.model_validate(r.json()).issue
    assert issue.expression == ["status"]
    assert "Task status codes" in issue.diagnostics and "in-progress" in issue.diagnostics
    assert "^" not in issue.diagnostics and "pattern" not in issue.diagnostics
    dated = await client.get(f"{FHIR}/Task?_lastUpdated=yesterday", headers=h)
    [issue] = OperationOutcome.model_validate(dated.json()).issue
    assert issue.expression == ["_lastUpdated.0"]  # the first of the repeatable values
    assert "FHIR date search" in issue.diagnostics and "^" not in issue.diagnostics
