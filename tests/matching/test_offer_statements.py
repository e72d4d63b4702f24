"""An offer's status is written into the SQL of the statements that test it, never bound.

SQLite re-prepares a statement on every run when a bound value meets a partial index's
condition, and `uq_offer_case_specialist_pending` is one (`WHERE status = 'pending'`): a
specialist's case read cost 71-97 µs of SQL against 7 µs (app.core.queries.fixed). The
plan cannot be seen from Python, so the statements' text is checked: every fast-lane
statement in app/, the access rules as each kind of caller has them, and the inbox with
each status filter.
"""

import importlib
import pkgutil
import re
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy import or_, select, true
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg

import app
from app.cases import access, service
from app.cases.models import Case, OfferStatus
from app.core.principal import Principal, PrincipalKind, Role, Scope
from app.core.queries import Statement, fixed
from app.matching import offers

BOUND_STATUS = re.compile(r"offer\.status\s*(=|!=|<>)\s*(\?|\$\d+|:\w+)", re.IGNORECASE)

CALLERS = [
    Principal(id="usr_s", kind=PrincipalKind.user, role=Role.specialist, organization_id=None),
    Principal(id="usr_i", kind=PrincipalKind.user, role=Role.interpreter, organization_id=None),
    Principal(id="usr_c", kind=PrincipalKind.user, role=Role.clinician, organization_id="org_a"),
    Principal(id="usr_k", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None),
    Principal(
        id="cli_a",
        kind=PrincipalKind.client,
        role=Role.clinician,
        organization_id="org_a",
        scopes=frozenset({Scope.cases_read}),
    ),
]


def _sql(stmt: Statement, dialect: str) -> str:
    # Compiled here, not through `Statement.compiled`: that caches by the dialect's name,
    # and the app's PostgreSQL dialect is asyncpg's.
    d = sqlite.dialect() if dialect == "sqlite" else asyncpg.dialect()
    return str(stmt.clause.compile(dialect=d))


def _module_statements() -> list[tuple[str, Statement]]:
    found = []
    for info in pkgutil.walk_packages(app.__path__, "app."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, Statement):
                found.append((f"{info.name}.{name}", value))
    return found


def test_module_statements_write_the_offer_status_in() -> None:
    statements = _module_statements()
    assert any("offer" in _sql(s, "sqlite") for _, s in statements)  # the scan found them
    bound = [name for name, s in statements if BOUND_STATUS.search(_sql(s, "sqlite"))]
    assert bound == []


@pytest.mark.parametrize("p", CALLERS, ids=lambda p: f"{p.kind}-{p.role}")
def test_case_access_writes_the_offer_status_in(p: Principal) -> None:
    rule = select(Case.id).where(access.summary_access(p), or_(access.full_access(p), true()))
    for dialect in ("sqlite", "postgresql"):
        read = _sql(service._read_statement(dialect, p), dialect)
        assert not BOUND_STATUS.search(read), read
        assert not BOUND_STATUS.search(_sql(Statement(rule), dialect))
    if p.role == Role.specialist and p.is_user:
        assert "offer.status = 'pending'" in _sql(service._read_statement("sqlite", p), "sqlite")


@pytest.mark.parametrize("status", [None, *OfferStatus])
@pytest.mark.parametrize("p", CALLERS, ids=lambda p: f"{p.kind}-{p.role}")
def test_inbox_writes_the_status_filter_in(p: Principal, status: OfferStatus | None) -> None:
    stmt = offers._inbox_statement("sqlite", p, (status, False, False, False))
    text = _sql(stmt, "sqlite")
    assert not BOUND_STATUS.search(text), text
    if status is not None:
        assert f"offer.status = '{status.value}'" in text


@pytest.mark.parametrize(
    "key", [(1, 1, False, False, False, True), (3, 2, True, True, True, False)]
)
def test_ranking_writes_the_offer_status_in(key: tuple[object, ...]) -> None:
    """The ranking's statements (built per shape of request, not at module level) count a
    specialist's pending offers: run every time a case is offered."""
    from app.matching.ranking_query import statements

    built = statements(key)
    assert built
    for name, stmt in built.items():
        if hasattr(stmt, "compile"):
            text = str(stmt.compile(dialect=sqlite.dialect()))
            assert not BOUND_STATUS.search(text), name


SQL_STATUS = re.compile(r"(col\(Offer\.status\)|\.c\.status)\s*(==|!=)\s*OfferStatus\.")


def test_no_source_compares_an_offer_column_with_a_bound_status() -> None:
    """Statements built inside functions (jobs, digests, ORM updates) are not reachable
    from here: their source is read instead (a column, `col(Offer.status)` or `….c.status`,
    compared with a status; a loaded offer's `o.status` is Python's own comparison).
    `fixed(OfferStatus.x)` is the way."""
    root = Path(app.__file__).parent
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SQL_STATUS.search(line) and "fixed(" not in line
    ]
    assert found == []


def test_fixed_takes_only_plain_values() -> None:
    assert str(fixed(OfferStatus.pending).compile(dialect=sqlite.dialect())) == "'pending'"

    class Odd(StrEnum):
        quote = "it's"

    with pytest.raises(ValueError):
        fixed(Odd.quote)
