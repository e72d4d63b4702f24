"""Test data factories: make_org(**overrides), make_user(role, **overrides), tokens."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app.auth.models import ApiClient, User
from app.core.clock import utcnow
from app.core.db import new_id, sessionmaker
from app.core.principal import Role
from app.core.security import create_token, hash_secret
from app.organizations.models import Organization

if TYPE_CHECKING:
    from app.cases.models import Case, Offer

API = "/api/v1"


class Factory:
    async def make_org(self, **overrides: Any) -> Organization:
        data: dict[str, Any] = {
            "name": "Clinic " + new_id("x")[-6:],
            "country": "KE",
            "timezone": "Africa/Nairobi",
            "languages": ["sw", "en"],
            "local_resources": {"text": "basic lab", "tags": ["cbc"]},
        }
        data.update(overrides)
        async with sessionmaker()() as s:
            org = Organization(**data)
            s.add(org)
            await s.commit()
            return org

    async def make_user(self, role: Role | str = Role.clinician, **overrides: Any) -> User:
        role = Role(role)
        data: dict[str, Any] = {
            "email": f"{role.value}.{new_id('u')[-10:]}@example.org",
            "name": f"Test {role.value}",
            "role": role.value,
            # A fixed, cheap hash is enough for users who never log in by password.
            "password_hash": None,
        }
        data.update(overrides)
        if "password" in data:
            from app.core.security import hash_password

            data["password_hash"] = await hash_password(data.pop("password"))
        async with sessionmaker()() as s:
            user = User(**data)
            s.add(user)
            await s.commit()
            return user

    async def make_client(
        self, organization_id: str, scopes: list[str] | None = None, secret: str = "cs_test-secret"
    ) -> ApiClient:
        async with sessionmaker()() as s:
            c = ApiClient(
                client_id=new_id("ci"),
                secret_hash=hash_secret(secret),
                name="Partner EMR",
                organization_id=organization_id,
                scopes=scopes
                or ["cases:read", "cases:write", "rounds:read", "rounds:write", "webhooks:manage"],
            )
            s.add(c)
            await s.commit()
            return c

    @staticmethod
    def token(user: User, minutes: int = 15) -> str:
        tok, _ = create_token(
            user.id, "access", timedelta(minutes=minutes), tv=user.token_version, role=user.role
        )
        return tok

    def headers(self, who: User | ApiClient | None) -> dict[str, str]:
        if who is None:
            return {}
        if isinstance(who, ApiClient):
            tok, _ = create_token(
                who.id, "access", timedelta(minutes=15), kind="client", scope=" ".join(who.scopes)
            )
        else:
            tok = self.token(who)
        return {"Authorization": f"Bearer {tok}"}

    async def make_case(self, organization_id: str, **overrides: Any) -> "Case":
        """A case row as intake would write it; pass status=/assigned_specialist_id= to jump
        ahead in the lifecycle without going through matching."""

        from app.cases.models import Case

        data: dict[str, Any] = {
            "organization_id": organization_id,
            "specialty": "dermatology",
            "urgency": "routine",
            "question": "Spreading rash on both forearms; treatment?",
            "summary": "Three weeks, itchy, no fever.",
            "patient_reference": "MRN-" + new_id("p")[-6:],
            "patient_age_years": 34,
            "patient_sex": "female",
            "languages": ["es"],
            "consent_method": "verbal",
            "respond_by": utcnow() + timedelta(hours=72),
        }
        data.update(overrides)
        if data.get("assigned_specialist_id") and "status" not in overrides:
            data["status"] = "assigned"
        if data.get("status") in ("assigned", "answered", "closed"):
            data.setdefault("assigned_at", utcnow())
        async with sessionmaker()() as s:
            case = Case(**data)
            s.add(case)
            await s.commit()
            return case

    async def add_participant(self, case_id: str, user_id: str, role: str = "interpreter") -> None:
        from app.cases.models import CaseParticipant

        async with sessionmaker()() as s:
            s.add(CaseParticipant(case_id=case_id, user_id=user_id, role=role))
            await s.commit()

    async def make_offer(self, case_id: str, specialist_id: str, **overrides: Any) -> "Offer":

        from app.cases.models import Offer

        data: dict[str, Any] = {
            "case_id": case_id,
            "specialist_id": specialist_id,
            "expires_at": utcnow() + timedelta(hours=2),
        }
        data.update(overrides)
        async with sessionmaker()() as s:
            offer = Offer(**data)
            s.add(offer)
            await s.commit()
            return offer
