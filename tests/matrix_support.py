"""The access matrix: every route with an id, against every role and another facility.

Each domain declares rows in tests/<domain>/matrix.py as `ROWS: list[Row]`. A row builds a
fresh target owned by facility A (so a mutating route can run once per role) and says what
each principal must get. tests/test_access_matrix.py runs them all and fails when a route
with a path parameter has no row.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.auth.models import ApiClient, User
from app.core.principal import Role
from app.organizations.models import Organization
from tests.factories import Factory

PRINCIPALS = (
    "anonymous",
    "admin",
    "coordinator",
    "clinician_a",
    "clinician_b",
    "specialist",
    "interpreter",
    "client_a",
    "client_b",
)


@dataclass
class World:
    f: Factory
    org_a: Organization
    org_b: Organization
    users: dict[str, User | ApiClient | None] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return self.f.headers(self.users[who])


async def make_world(f: Factory) -> World:
    org_a = await f.make_org(name="Facility A")
    org_b = await f.make_org(name="Facility B", country="NP", timezone="Asia/Kathmandu")
    w = World(f, org_a, org_b)
    w.users = {
        "anonymous": None,
        "admin": await f.make_user(Role.admin),
        "coordinator": await f.make_user(Role.coordinator),
        "clinician_a": await f.make_user(Role.clinician, organization_id=org_a.id),
        "clinician_b": await f.make_user(Role.clinician, organization_id=org_b.id),
        "specialist": await f.make_user(Role.specialist),
        "interpreter": await f.make_user(Role.interpreter),
        "client_a": await f.make_client(org_a.id),
        "client_b": await f.make_client(org_b.id),
    }
    return w


Setup = Callable[[World], Awaitable[tuple[str, Any]]]


@dataclass
class Row:
    method: str
    path: str  # the route's template, as FastAPI lists it (with /api/v1)
    setup: Setup  # returns (concrete URL, JSON body or None)
    expect: dict[str, int]
    # Extra keyword arguments for the request (files=, data=, headers=).
    request_kw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(PRINCIPALS) - set(self.expect)
        assert not missing, f"{self.method} {self.path}: no expectation for {missing}"
