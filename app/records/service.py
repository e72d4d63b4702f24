"""A case's whole story in time order, gathered from every domain that has a part in it.

Each domain contributes through `app/<domain>/record.py` exposing
`async def record_entries(session, case) -> list[dict]` (each dict has `at`, `type`, and its
own fields); a new domain adds its part without touching this file."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.cases.models import Case
from app.core.principal import Principal
from app.core.registry import domain_modules
from app.records import sources


def _sources() -> list[Any]:
    return [sources.record_entries, *(m.record_entries for m in domain_modules("record"))]


async def case_record(session: AsyncSession, p: Principal, case: Case) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for collect in _sources():
        entries.extend(e for e in await collect(session, case) if e.get("at") is not None)
    # Stable: the same instant keeps the order its source gave (intake before its offers).
    entries.sort(key=lambda e: _as_dt(e["at"]))
    await audit.append(session, p, "case.record.read", "case", case.id)
    return {"case_id": case.id, "status": case.status, "entries": entries}


def _as_dt(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
