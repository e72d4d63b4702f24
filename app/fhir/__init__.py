"""The FHIR R4 server surface: our records as FHIR resources, read and searched under each
domain's own access rules (docs/partners.md, "FHIR")."""
