"""The demo programme that `make run` loads into a new database."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.core.principal import Role
from app.organizations.models import Organization

FACILITIES = [
    {
        "key": "salta",
        "name": "Hospital San Roque de la Puna",
        "country": "AR",
        "timezone": "America/Argentina/Salta",
        "languages": ["es", "qu"],
        "local_resources": {
            "text": "X-ray weekdays, basic lab, no CT; amoxicillin, ceftriaxone.",
            "tags": ["x-ray", "basic-lab", "ultrasound", "ceftriaxone"],
        },
    },
    {
        "key": "kisumu",
        "name": "Lake Mission Hospital",
        "country": "KE",
        "timezone": "Africa/Nairobi",
        "languages": ["sw", "en", "luo"],
        "local_resources": {
            "text": "Ultrasound, malaria RDT, CBC; oxygen concentrators.",
            "tags": ["ultrasound", "malaria-rdt", "cbc", "oxygen"],
        },
    },
    {
        "key": "jumla",
        "name": "Karnali Hill Clinic",
        "country": "NP",
        "timezone": "Asia/Kathmandu",
        "languages": ["ne", "en"],
        "local_resources": {
            "text": "No imaging; pulse oximeter, glucometer, ECG (single lead).",
            "tags": ["pulse-oximeter", "glucometer", "ecg"],
        },
    },
    {
        "key": "gonaives",
        "name": "Centre de Santé Artibonite",
        "country": "HT",
        "timezone": "America/Port-au-Prince",
        "languages": ["ht", "fr"],
        "local_resources": {
            "text": "Basic lab, rapid HIV and syphilis tests, oral rehydration.",
            "tags": ["basic-lab", "hiv-rapid-test", "ors"],
        },
    },
]

SPECIALISTS: list[dict[str, Any]] = [
    {
        "name": "Dr Ana Ruiz",
        "specialties": ["dermatology"],
        "languages": ["es", "en"],
        "timezone": "Europe/Madrid",
    },
    {
        "name": "Dr Tom Becker",
        "specialties": ["cardiology"],
        "languages": ["de", "en"],
        "timezone": "Europe/Berlin",
    },
    {
        "name": "Dr Grace Otieno",
        "specialties": ["pediatrics"],
        "languages": ["sw", "en"],
        "timezone": "Africa/Nairobi",
    },
    {
        "name": "Dr Marie Dubois",
        "specialties": ["obstetrics_gynecology"],
        "languages": ["fr", "en"],
        "timezone": "Europe/Paris",
    },
    {
        "name": "Dr Raj Sharma",
        "specialties": ["internal_medicine", "infectious_disease"],
        "languages": ["hi", "ne", "en"],
        "timezone": "Asia/Kolkata",
    },
    {
        "name": "Dr Lucy Chen",
        "specialties": ["radiology"],
        "languages": ["en", "zh"],
        "timezone": "America/Vancouver",
    },
    {
        "name": "Dr Pedro Alves",
        "specialties": ["infectious_disease"],
        "languages": ["pt", "es"],
        "timezone": "America/Sao_Paulo",
    },
    {
        "name": "Dr Sarah Miller",
        "specialties": ["emergency_medicine"],
        "languages": ["en"],
        "timezone": "America/New_York",
    },
    {
        "name": "Dr Jean Baptiste",
        "specialties": ["general_surgery"],
        "languages": ["fr", "ht"],
        "timezone": "America/Montreal",
    },
    {
        "name": "Dr Amina Yusuf",
        "specialties": ["psychiatry"],
        "languages": ["en", "so", "ar"],
        "timezone": "Europe/London",
    },
    {
        "name": "Dr Kenji Sato",
        "specialties": ["neurology"],
        "languages": ["ja", "en"],
        "timezone": "Asia/Tokyo",
    },
    {
        "name": "Dr Elena Rossi",
        "specialties": ["ophthalmology", "dermatology"],
        "languages": ["it", "en", "es"],
        "timezone": "Europe/Rome",
    },
]


async def load(session: AsyncSession, password: str) -> list[tuple[str, str]]:
    """Create the demo programme; returns (email, role) of every demo login."""
    logins: list[tuple[str, str]] = []
    orgs: dict[str, Organization] = {}
    for f in FACILITIES:
        data: dict[str, Any] = {k: v for k, v in f.items() if k != "key"}
        org = Organization(**data)
        session.add(org)
        orgs[str(f["key"])] = org
    await session.flush()

    async def user(
        email: str,
        name: str,
        role: Role,
        org: str | None = None,
        languages: list[str] | None = None,
    ) -> Any:
        u = await auth_service.create_user(
            session,
            None,
            {
                "email": email,
                "name": name,
                "role": role.value,
                "password": password,
                "organization_id": orgs[org].id if org else None,
                "languages": languages or [],
            },
        )
        logins.append((email, role.value))
        return u

    await user("coordinator@demo.org", "Programme Coordinator", Role.coordinator)
    for key in orgs:
        await user(
            f"clinician.{key}@demo.org", f"Clinician at {orgs[key].name}", Role.clinician, key
        )
    # Her languages on file: the case page's picker lists her first for Salta's cases.
    await user(
        "interpreter@demo.org",
        "Quechua and Spanish interpreter",
        Role.interpreter,
        languages=["qu", "es"],
    )
    specialists = []
    for sp in SPECIALISTS:
        email = sp["name"].lower().replace("dr ", "").replace(" ", ".") + "@demo.org"
        specialists.append((await user(email, sp["name"], Role.specialist), sp))
    # Each domain may add to the demo in app/<domain>/demo.py: load(session, orgs, specialists).
    from app.core.registry import domain_modules

    for module in domain_modules("demo"):
        await module.load(session, orgs, specialists)
    return logins
