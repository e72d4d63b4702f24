"""Each case's listed JSON, kept by the database: the triggers that write `case_listing`.

GET /cases answers with up to 200 cases, each as JSON in the view its caller has of it
(full, or the summary a specialist with a pending offer sees). Building that JSON in the
list's own query cost about 10 µs a case on PostgreSQL, most of the list's time on the
database (bench), so it is built when a case is written instead: a trigger on `case`
writes both views of the row into `case_listing` on every INSERT and UPDATE, whether the
ORM or plain SQL wrote it. The list joins it and picks the view the access rule gives.

The JSON comes from the same SHAPES `present()` walks (app.cases.presentation.json_sql). The
migration that installs the triggers holds their SQL as it was then; `trigger_sql()` is
that SQL as the code would write it now, and a test fails when the two disagree. After a
change to SHAPES, add a migration that runs `drop_sql()` then `trigger_sql()` with the
new text frozen in it, and rewrites the stored rows (`refresh_sql()`).
"""

from app.cases.access import View
from app.cases.presentation import SHAPES, json_sql

FUNCTION = "case_listing_write"  # PostgreSQL: the trigger function and the trigger
# PostgreSQL writes floats as the writing session's extra_float_digits says; the stored
# JSON must not depend on who wrote the case (1, the default: the shortest exact form).
FLOAT_DIGITS = "extra_float_digits = 1"
SQLITE_TRIGGERS = ("case_listing_on_insert", "case_listing_on_update")


_UPSERT = (
    "ON CONFLICT (case_id) DO UPDATE "
    "SET full_json = excluded.full_json, summary_json = excluded.summary_json"
)


def _views(dialect: str, row: str) -> tuple[str, str]:
    """SQL for the row's full and summary JSON, as text."""
    full, summary = (json_sql(dialect, SHAPES[v], row) for v in (View.full, View.summary))
    if dialect != "sqlite":  # json, stored as its text
        full, summary = f"CAST({full} AS TEXT)", f"CAST({summary} AS TEXT)"
    return full, summary


def _upsert(dialect: str, row: str) -> str:
    full, summary = _views(dialect, row)
    return (
        "INSERT INTO case_listing (case_id, full_json, summary_json) "
        f"VALUES ({row}.id, {full}, {summary}) {_UPSERT}"
    )


def function_body() -> str:
    """PostgreSQL: the trigger function's body (as pg_proc.prosrc holds it)."""
    return f"\nBEGIN\n  {_upsert('postgresql', 'NEW')};\n  RETURN NULL;\nEND\n"


def trigger_sql(dialect: str) -> list[str]:
    """The statements that install the triggers."""
    if dialect == "sqlite":
        return [
            f'CREATE TRIGGER {name} AFTER {verb} ON "case" BEGIN {_upsert(dialect, "NEW")}; END'
            for name, verb in zip(SQLITE_TRIGGERS, ("INSERT", "UPDATE"), strict=True)
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
        f"SET {FLOAT_DIGITS} AS $body${function_body()}$body$",
        f'CREATE TRIGGER {FUNCTION} AFTER INSERT OR UPDATE ON "case" '
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
    ]


def drop_sql(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [
        f'DROP TRIGGER IF EXISTS {FUNCTION} ON "case"',
        f"DROP FUNCTION IF EXISTS {FUNCTION}()",
    ]


def refresh_sql(dialect: str) -> list[str]:
    """Rewrite every case's stored JSON (after installing or changing the triggers), in a
    transaction."""
    full, summary = _views(dialect, '"case"')
    # WHERE true: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
    insert = (
        "INSERT INTO case_listing (case_id, full_json, summary_json) "
        f'SELECT "case".id, {full}, {summary} FROM "case" WHERE true {_UPSERT}'
    )
    return [insert] if dialect == "sqlite" else [f"SET LOCAL {FLOAT_DIGITS}", insert]
