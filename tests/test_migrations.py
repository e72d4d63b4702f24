"""The drift check: a database migrated with `alembic upgrade head` matches the models.

The suite's database (a fresh SQLite file, or a fresh PostgreSQL database) was migrated
by conftest with exactly that command, so comparing it with the metadata is the check.
"""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table

from app.core.db import get_engine, metadata
from app.core.migrations import code_heads, database_heads
from app.core.registry import import_all_models

FOUNDATION_TABLES = {
    "user",
    "refresh_token",
    "revoked_access_token",
    "api_client",
    "organization",
    "audit_entry",
    "idempotency_record",
    "outbox_event",
}


def _table_of(diff: Any) -> str | None:
    if isinstance(diff, list):  # modify_* diffs come grouped per column
        return _table_of(diff[0])
    kind, *rest = diff
    first = rest[0] if rest else None
    if isinstance(first, Table):
        return first.name
    if hasattr(first, "table") and first.table is not None:  # Index, constraints
        return str(first.table.name)
    if kind.startswith(("add_column", "remove_column", "modify_")) and len(rest) >= 2:
        return str(rest[1])
    return None


async def _drift() -> list[Any]:
    import_all_models()

    def compare(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(ctx, metadata))

    async with get_engine().connect() as conn:
        return await conn.run_sync(compare)


def test_migrations_form_one_line():
    """`alembic upgrade head` (the README's command) needs exactly one head."""
    assert len(code_heads()) == 1, f"several heads: {sorted(code_heads())}; merge or rebase them"


async def test_database_is_at_the_head(app):
    assert await database_heads(get_engine()) == code_heads()


async def test_foundation_tables_do_not_drift(app):
    drift = [d for d in await _drift() if _table_of(d) in FOUNDATION_TABLES]
    assert drift == [], "the foundation's models and migrations disagree"


async def test_no_model_drifts_from_the_migrations(app):
    drift = await _drift()
    ignored = {"alembic_version"}
    drift = [d for d in drift if _table_of(d) not in ignored]
    assert drift == [], "a model changed without a migration (or the other way round)"


async def test_constraints_carry_the_naming_convention(app):
    """Named the same on SQLite and PostgreSQL, so later migrations can address them."""
    from sqlalchemy import inspect

    def names(conn: Any) -> list[tuple[str, str | None]]:
        insp = inspect(conn)
        out: list[tuple[str, str | None]] = []
        for t in sorted(FOUNDATION_TABLES):
            out += [("fk", fk["name"]) for fk in insp.get_foreign_keys(t)]
            out += [("uq", uq["name"]) for uq in insp.get_unique_constraints(t)]
            # PostgreSQL lists a unique constraint's own index too; that one is uq_ named.
            out += [
                ("ix", ix["name"])
                for ix in insp.get_indexes(t)
                if not ix.get("duplicates_constraint")
            ]
            out += (
                [("pk", insp.get_pk_constraint(t)["name"])] if conn.dialect.name != "sqlite" else []
            )
        return out

    async with get_engine().connect() as conn:
        found = await conn.run_sync(names)
    assert any(kind == "fk" for kind, _ in found)
    for kind, name in found:
        assert name and name.startswith(kind + "_"), (kind, name)
