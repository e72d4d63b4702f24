"""The specialty vocabulary: codes are lower snake case, served at GET /specialties."""

SPECIALTIES: dict[str, str] = {
    "anesthesiology": "Anaesthesiology",
    "cardiology": "Cardiology",
    "dermatology": "Dermatology",
    "emergency_medicine": "Emergency medicine",
    "endocrinology": "Endocrinology",
    "gastroenterology": "Gastroenterology",
    "general_surgery": "General surgery",
    "hematology": "Haematology",
    "infectious_disease": "Infectious disease",
    "internal_medicine": "Internal medicine",
    "nephrology": "Nephrology",
    "neonatology": "Neonatology",
    "neurology": "Neurology",
    "obstetrics_gynecology": "Obstetrics and gynaecology",
    "oncology": "Oncology",
    "ophthalmology": "Ophthalmology",
    "orthopedics": "Orthopaedics",
    "otolaryngology": "Ear, nose and throat",
    "pathology": "Pathology",
    "pediatrics": "Paediatrics",
    "psychiatry": "Psychiatry",
    "pulmonology": "Pulmonology",
    "radiology": "Radiology",
    "rheumatology": "Rheumatology",
    "urology": "Urology",
}


# How the OpenAPI schema states the rule every specialty field and filter enforces.
SPECIALTY_SCHEMA: dict[str, object] = {
    "type": "string",
    "enum": sorted(SPECIALTIES),
    "description": "A code from GET /specialties.",
}


def is_specialty(code: str) -> bool:
    return code in SPECIALTIES
