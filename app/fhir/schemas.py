"""The shapes the OpenAPI document gives the FHIR answers: the outline a generic client
needs (resourceType, id, meta; a Bundle's total, links and entries). The resources
themselves are FHIR R4, validated against it in the tests with fhir.resources."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Fhir(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirMeta(_Fhir):
    versionId: str | None = None
    lastUpdated: str | None = None


class FhirResource(_Fhir):
    """Any FHIR R4 resource: its type and id, and the version its ETag names."""

    resourceType: str = Field(examples=["ServiceRequest"])
    id: str | None = Field(default=None, examples=["case-0195f2c41a8b3c1d2e3f4a5b"])
    meta: FhirMeta | None = None


def _resource(name: str) -> type[FhirResource]:
    model = type(
        f"Fhir{name}",
        (FhirResource,),
        {
            "__annotations__": {"resourceType": Literal[name], "id": str, "meta": FhirMeta},
            "__doc__": f"A FHIR R4 {name}.",
            "resourceType": Field(examples=[name]),
        },
    )
    return model


FhirServiceRequest = _resource("ServiceRequest")
FhirTask = _resource("Task")
FhirCommunication = _resource("Communication")
FhirDocumentReference = _resource("DocumentReference")
FhirPractitioner = _resource("Practitioner")
FhirOrganization = _resource("Organization")
FhirAppointment = _resource("Appointment")


class OperationOutcomeIssue(_Fhir):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(_Fhir):
    """What went wrong with a FHIR interaction (the FHIR counterpart of problem+json)."""

    resourceType: Literal["OperationOutcome"]
    issue: list[OperationOutcomeIssue]


class BundleLink(_Fhir):
    relation: Literal["self", "next"]
    url: str


class BundleEntry(_Fhir):
    fullUrl: str
    resource: FhirResource
    search: dict[str, str] | None = None


class FhirBundle(_Fhir):
    """A searchset: `total` counts every match; follow `link` `next` for the next page."""

    resourceType: Literal["Bundle"]
    type: Literal["searchset"]
    total: int = Field(ge=0)
    link: list[BundleLink]
    entry: list[BundleEntry] | None = None


class FhirCapabilityStatement(_Fhir):
    """What this server serves: resource types, interactions and search parameters."""

    resourceType: Literal["CapabilityStatement"]
    status: str
    kind: str
    fhirVersion: str
    format: list[str]
    rest: list[dict[str, object]]
