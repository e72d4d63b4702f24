"""A Python client generated from the schema (openapi-python-client) builds, and a whole
case goes through it: a partner app submits, a coordinator offers, the specialist accepts
and signs a consult note (If-Match), the partner reads the answer and closes the case."""

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.core.principal import Role
from tests.specialists.support import make_specialist

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "consult_backend_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    exe = str(GENERATOR) if GENERATOR.exists() else shutil.which("openapi-python-client")
    if exe is None:
        pytest.skip("openapi-python-client is not installed")
    from app.main import create_app

    work = tmp_path_factory.mktemp("client")
    (work / "schema.json").write_text(json.dumps(create_app().openapi()))
    # Literal types for enums: IANA zone names such as GMT+0 and GMT-0 would collide as
    # enum member names.
    (work / "config.yaml").write_text("literal_enums: true\n")
    r = subprocess.run(
        [
            exe,
            "generate",
            "--path",
            "schema.json",
            "--output-path",
            "out",
            "--config",
            "config.yaml",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (work / "out" / PACKAGE / "api").is_dir(), r.stdout + r.stderr
    # Every operation made it into the client (a name clash once dropped one).
    modules = {p.stem for p in (work / "out" / PACKAGE / "api").rglob("*.py")}
    assert {"create_case", "accept_offer", "sign_note", "close_case", "token"} <= modules
    return work / "out"


def _import(root: Path, name: str):
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_whole_case_through_the_generated_client(generated, app, factory):
    client_mod = _import(generated, "client")
    models = _import(generated, "models")
    create_case = _import(generated, "api.cases.create_case")
    get_case = _import(generated, "api.cases.get_case")
    close_case = _import(generated, "api.cases.close_case")
    create_offers = _import(generated, "api.matching.create_offers")
    accept_offer = _import(generated, "api.matching.accept_offer")
    create_note = _import(generated, "api.notes.create_note")
    sign_note = _import(generated, "api.notes.sign_note")
    get_note = _import(generated, "api.notes.get_note")
    me = _import(generated, "api.auth.me")

    org = await factory.make_org()
    partner = await factory.make_client(org.id, scopes=["cases:read", "cases:write"])
    coordinator = await factory.make_user(Role.coordinator)
    specialist = await make_specialist(factory)

    def as_(who):
        token = factory.headers(who)["Authorization"].split(" ", 1)[1]
        return client_mod.AuthenticatedClient(
            base_url="http://testserver",
            token=token,
            httpx_args={"transport": httpx.ASGITransport(app=app)},
        )

    async with as_(partner) as c:
        who = await me.asyncio_detailed(client=c)
        assert who.status_code == 200 and who.parsed.organization_id == org.id
        r = await create_case.asyncio_detailed(
            client=c,
            idempotency_key="case-1",
            body=models.CaseCreate(
                specialty="dermatology",
                urgency="routine",
                question="Spreading rash on both forearms; treatment?",
                summary="Three weeks, itchy, no fever.",
                patient=models.PatientIn(reference="MRN-0042", age_years=34, sex="female"),
                consent=models.ConsentIn(obtained=True, method="verbal"),
                languages=["es"],
            ),
        )
        assert r.status_code == 201, r.content
        case = r.parsed
        assert isinstance(case, models.CaseRead) and case.status == "submitted"
        assert r.headers["location"].endswith(case.id)

    async with as_(coordinator) as c:
        r = await create_offers.asyncio_detailed(
            case.id, client=c, body=models.OfferCreate(specialist_ids=[specialist.id])
        )
        assert r.status_code == 201, r.content
        [offer] = r.parsed.items

    async with as_(specialist) as c:
        r = await accept_offer.asyncio_detailed(offer.id, client=c)
        assert r.status_code == 200, r.content
        r = await create_note.asyncio_detailed(
            case.id,
            client=c,
            body=models.NoteCreate(
                kind="consult",
                assessment="Likely contact dermatitis.",
                recommendations="Stop the new soap; hydrocortisone 1% twice daily.",
            ),
        )
        assert r.status_code == 201, r.content
        note = r.parsed
        r = await sign_note.asyncio_detailed(note.id, client=c, if_match=r.headers["etag"])
        assert r.status_code == 200, r.content
        assert r.parsed.status == "signed"

    async with as_(partner) as c:
        r = await get_case.asyncio_detailed(case.id, client=c)
        assert r.status_code == 200 and r.parsed.status == "answered"
        r = await get_note.asyncio_detailed(note.id, client=c)
        assert r.status_code == 200 and r.parsed.recommendations.startswith("Stop the new soap")
        r = await close_case.asyncio_detailed(
            case.id, client=c, body=models.CaseClose(outcome="Improved within a week.")
        )
        assert r.status_code == 200, r.content
        assert r.parsed.status == "closed"
        # An error comes back typed, as the schema says: problem+json with its request id.
        r = await get_case.asyncio_detailed("case_nope", client=c, x_request_id="gen-1")
        assert r.status_code == 404 and isinstance(r.parsed, models.Problem)
        assert r.parsed.request_id == "gen-1"
