"""A FHIR client library (fhirpy's async client) against the server on a real socket:
CapabilityStatement, read, search, paging through `next` links, counts, references that
resolve, and OperationOutcome errors, as a partner's integration would meet them."""

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.task import Task
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from app.fhir.resources import fhir_id
from tests.realtime.support import inprocess_server
from tests.specialists.support import make_specialist


async def test_a_fhir_client_reads_searches_and_pages(app, factory, clock):
    org = await factory.make_org()
    other = await factory.make_org()
    # Matching assigns verified specialists only: the directory shows them to partner apps.
    spec = await make_specialist(factory, name="Dr Maria Anand")
    app_client = await factory.make_client(org.id)  # the facility's partner app
    cases = []
    for i in range(7):
        extra = {"status": "assigned", "assigned_specialist_id": spec.id} if i % 2 else {}
        cases.append(await factory.make_case(org.id, **extra))
        clock.advance(timedelta(minutes=1))
    await factory.make_case(other.id)
    token = factory.headers(app_client)["Authorization"]

    async with inprocess_server(app) as host:
        fhir = AsyncFHIRClient(f"http://{host}/api/v1/fhir", authorization=token)

        meta = await fhir.execute("metadata", method="get")
        assert meta["resourceType"] == "CapabilityStatement"
        assert {r["type"] for r in meta["rest"][0]["resource"]} >= {"ServiceRequest", "Task"}

        # Read, by the FHIR spelling of the id.
        sr = await fhir.reference("ServiceRequest", fhir_id(cases[0].id)).to_resource()
        assert sr["id"] == fhir_id(cases[0].id) and sr["meta"]["versionId"] == "1"

        # Search: the client follows `next` links to the end; count() reads the true total.
        tasks = await fhir.resources("Task").limit(3).fetch_all()
        assert [t["id"] for t in tasks] == [fhir_id(c.id) for c in reversed(cases)]
        for t in tasks:
            Task.model_validate(t.serialize())
        assert await fhir.resources("Task").count() == 7
        accepted = await fhir.resources("Task").search(status="accepted").fetch_all()
        assert len(accepted) == 3
        assert await fhir.resources("ServiceRequest").search(status="revoked").count() == 0
        raw = await fhir.resources("ServiceRequest").limit(2).fetch_raw()
        b = Bundle.model_validate(raw.serialize() if hasattr(raw, "serialize") else raw)
        assert b.total == 7 and len(b.entry) == 2

        # The references a ServiceRequest holds resolve.
        assigned = await fhir.reference("ServiceRequest", fhir_id(cases[1].id)).to_resource()
        performer = await fhir.reference(
            reference=assigned["performer"][0]["reference"]
        ).to_resource()
        assert performer["resourceType"] == "Practitioner"
        assert performer["name"][0]["text"] == "Dr Maria Anand"
        requester = await fhir.reference(reference=assigned["requester"]["reference"]).to_resource()
        assert requester["resourceType"] == "Organization" and requester["name"] == org.name

        # Errors: another facility's case is not found; a bad parameter is an OperationOutcome.
        with pytest.raises(ResourceNotFound):
            await fhir.reference(
                "Task", fhir_id(cases[0].id).replace("case", "case0")
            ).to_resource()
        with pytest.raises(OperationOutcome) as bad:
            await fhir.resources("Task").search(status="sleeping").fetch()
        assert bad.value.resource["resourceType"] == "OperationOutcome"
