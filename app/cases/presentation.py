"""How a case is shown: one description of its shape (SHAPES) serves a single read
(`present`), the JSON the database keeps for the list (`json_sql`, app.cases.listing), and
its ETag. The documented shape is app.cases.schemas."""

from typing import Any

from sqlalchemy import Boolean, Float

from app.cases.access import View
from app.cases.models import Case
from app.core import conditional
from app.core.db import UTCDateTime

_CASE_TABLE: Any = Case.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__


def etag(case: Any, view: View = View.full) -> str:
    """The representation's ETag: the case's version, told apart by view."""
    return conditional.etag(case.version, None if view == View.full else view.value)


class Const:
    """A fixed value in a shape (not a column)."""

    def __init__(self, value: Any) -> None:
        self.value = value


# The case as a caller sees it, once for both uses: output key -> column name, a nested
# shape, or a Const. `present` walks it for one case; the database writes the same JSON
# whenever a case is written, for the list (`json_sql`, app.cases.listing). See
# app.cases.schemas for the documented shape.
_COMMON: dict[str, Any] = {
    "id": "id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "organization_id": "organization_id",
    "specialty": "specialty",
    "urgency": "urgency",
    "question": "question",
    "summary": "summary",
    "languages": "languages",
    "interpreter_needed": "interpreter_needed",
    "status": "status",
    "respond_by": "respond_by",
    "overdue": "overdue",
}
SHAPES: dict[View, dict[str, Any]] = {
    View.summary: {
        **_COMMON,
        "view": Const("summary"),
        "patient": {"age_years": "patient_age_years", "sex": "patient_sex"},
    },
    View.full: {
        **_COMMON,
        "view": Const("full"),
        "patient": {
            "reference": "patient_reference",
            "age_years": "patient_age_years",
            "sex": "patient_sex",
        },
        "consent": {"obtained": Const(True), "method": "consent_method"},
        "follow_up_of": "follow_up_of_id",
        "submitted_by_id": "submitted_by_id",
        "submitted_by_client_id": "submitted_by_client_id",
        "assigned_specialist_id": "assigned_specialist_id",
        "assigned_at": "assigned_at",
        "answered_at": "answered_at",
        "closed_at": "closed_at",
        "cancelled_at": "cancelled_at",
        "outcome": "outcome",
        "cancel_reason": "cancel_reason",
        "version": "version",
    },
}


def _walk(case: Any, shape: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, source in shape.items():
        if isinstance(source, str):
            out[key] = getattr(case, source)
        elif isinstance(source, Const):
            out[key] = source.value
        else:
            out[key] = _walk(case, source)
    return out


def present(case: Any, view: View) -> dict[str, Any]:
    """The case (an ORM object or a row) as the caller may see it: see SHAPES."""
    return _walk(case, SHAPES[view])


def _ts_json_sql(dialect: str, c: str) -> str:
    """A stored timestamp as the JSON text pydantic writes for it (`...T10:00:00.123456Z`,
    no fraction when it is zero), computed by the database."""
    if dialect == "sqlite":  # stored as `2026-11-21 10:00:00.123456`, UTC
        return (
            f"CASE WHEN substr({c}, 21) = '000000' "
            f"THEN substr({c}, 1, 10) || 'T' || substr({c}, 12, 8) || 'Z' "
            f"ELSE substr({c}, 1, 10) || 'T' || substr({c}, 12) || 'Z' END"
        )
    utc = f"({c} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {c}) = {c} "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


def json_sql(dialect: str, shape: dict[str, Any], row: str = '"case"') -> str:
    """SQL that writes a case row (`row`: the table or a trigger's NEW) as the JSON object
    `present` would give (SHAPES)."""
    parts: list[str] = []
    for key, source in shape.items():
        if isinstance(source, dict):
            value = json_sql(dialect, source, row)
        elif isinstance(source, Const):
            if source.value is True:
                value = "json('true')" if dialect == "sqlite" else "true"
            else:
                value = f"'{source.value}'" if dialect == "sqlite" else f"'{source.value}'::text"
        else:
            col = _CASE_TABLE.c[source]
            c = f"{row}.{source}"
            if isinstance(col.type, UTCDateTime):
                value = _ts_json_sql(dialect, c)
            elif dialect == "sqlite" and isinstance(col.type, Float):
                # json_object writes REAL with 15 digits; 17 read back as the same float.
                value = f"CASE WHEN {c} IS NULL THEN NULL ELSE json(printf('%!.17g', {c})) END"
            elif dialect == "sqlite" and source == "languages":
                value = f"json({c})"  # stored as JSON text
            elif dialect == "sqlite" and isinstance(col.type, Boolean):
                value = f"CASE WHEN {c} THEN json('true') ELSE json('false') END"
            else:
                value = c
        parts.append(f"'{key}', {value}")
    fn = "json_object" if dialect == "sqlite" else "json_build_object"
    return f"{fn}({', '.join(parts)})"
