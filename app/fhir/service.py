"""FHIR reads and searches of cases (ServiceRequest, Task), their messages
(Communication) and their signed notes (DocumentReference): loaded through the cases' own
access rules (app.cases.access), audited, built as FHIR. A search never shows what a read
would refuse."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.access import View, full_access, load_case_child, summary_access, view_of
from app.cases.models import Case, CaseStatus
from app.consults.models import Message
from app.core.errors import BadRequest, NotFound
from app.core.principal import Principal
from app.fhir import resources as fhir
from app.fhir.search import Search, date_clauses, patient_clauses, reference_id, tokens
from app.notes.models import Note, NoteStatus


class FhirNotFound(NotFound):
    """No such FHIR resource, or the caller may not see it."""


def tagged(resource: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The resource and its version (what its ETag names)."""
    return resource, str(resource["meta"]["versionId"])


async def visible_case(
    session: AsyncSession, p: Principal, case_id: str, full: bool = False
) -> tuple[Case, View]:
    """The rule of GET /cases/{id}: 404 (and a denied audit row) for anyone else."""
    found = await view_of(session, p, fhir.our_id(case_id))
    if found is None or (full and found[1] != View.full):
        await audit.append_denied(p, "case.read", "case", case_id[:40], detail="fhir")
        raise FhirNotFound("No such case.")
    return found


async def read_case(
    session: AsyncSession, p: Principal, case_id: str, kind: str
) -> tuple[dict[str, Any], str]:
    """One case as a ServiceRequest or a Task."""
    case, view = await visible_case(session, p, case_id)
    await audit.append(session, p, "case.read", "case", case.id, detail=f"fhir {kind}")
    build = fhir.service_request if kind == "ServiceRequest" else fhir.task
    return tagged(build(case, view == View.full))


# What each resource's `status` search parameter means in case statuses.
def _statuses(table: dict[Any, str], default: str | None) -> Callable[[str], list[str]]:
    def of(code: str) -> list[str]:
        return [
            s.value for s in CaseStatus if table.get(s, default) == code and table.get(s, default)
        ]

    return of


_CASE_STATUS = {
    "ServiceRequest": _statuses(fhir.REQUEST_STATUS, "active"),
    "Task": _statuses(fhir.TASK_STATUS, None),
}


async def search_cases(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    status: str | None = None,
    last_updated: list[str] | None = None,
    requester: str | None = None,
    performer: str | None = None,
) -> dict[str, Any]:
    """Cases as ServiceRequests or Tasks, newest first: those the caller may read, filtered
    (FHIR's `status` of that resource type, `_lastUpdated`, the requesting facility, the
    assigned specialist)."""
    where: list[ColumnElement[bool]] = [summary_access(p)]
    if status is not None:
        wanted = [c for code in tokens(status) for c in _CASE_STATUS[s.resource_type](code)]
        where.append(col(Case.status).in_(wanted))
    where += date_clauses(col(Case.updated_at), last_updated)
    if requester is not None:
        where.append(col(Case.organization_id) == reference_id(requester))
    if performer is not None:
        where.append(col(Case.assigned_specialist_id) == reference_id(performer))
    total = int(await session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)
    rows: list[Any] = []
    nxt = None
    if s.count:
        stmt = select(Case, and_(true(), full_access(p)).label("full")).where(*where)
        after = s.after()
        if after is not None:
            stmt = stmt.where(col(Case.id) < str(after))
        rows = list(
            (await session.execute(stmt.order_by(col(Case.id).desc()).limit(s.count + 1))).all()
        )
        if len(rows) > s.count:
            rows = rows[: s.count]
            nxt = s.next_url(rows[-1][0].id)
    build = fhir.service_request if s.resource_type == "ServiceRequest" else fhir.task
    if rows:
        await audit.append(
            session, p, "case.list", "case", None, detail=",".join(r[0].id for r in rows)
        )
    return fhir.bundle(s.self_url(), [build(c, bool(full)) for c, full in rows], s.base, total, nxt)


async def read_communication(
    session: AsyncSession, p: Principal, message_id: str
) -> tuple[dict[str, Any], str]:
    """One message, for those who see its case in full (as the consult room's rule)."""
    message, case = await load_case_child(
        session,
        p,
        Message,
        fhir.our_id(message_id),
        resource="message",
        not_found=FhirNotFound("No such communication."),
    )
    await audit.append(session, p, "message.read", "case", case.id, detail="fhir Communication")
    return tagged(fhir.communication(case, message))


async def search_communications(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    based_on: str | None = None,
    part_of: str | None = None,
    sent: list[str] | None = None,
) -> dict[str, Any]:
    """Messages of the cases the caller sees in full, oldest first; `based-on` (or
    `part-of`) narrows them to one case."""
    where: list[ColumnElement[bool]] = [full_access(p)]
    for ref in (based_on, part_of):
        if ref is not None:
            where.append(col(Message.case_id) == reference_id(ref))
    where += date_clauses(col(Message.created_at), sent)
    joined = (
        select(func.count()).select_from(Message).join(Case, col(Case.id) == col(Message.case_id))
    )
    total = int(await session.scalar(joined.where(*where)) or 0)
    rows: list[Any] = []
    nxt = None
    if s.count:
        stmt = select(Message, Case).join(Case, col(Case.id) == col(Message.case_id)).where(*where)
        after = s.after()
        if after is not None:
            stmt = stmt.where(col(Message.id) > str(after))
        rows = list(
            (await session.execute(stmt.order_by(col(Message.id)).limit(s.count + 1))).all()
        )
        if len(rows) > s.count:
            rows = rows[: s.count]
            nxt = s.next_url(rows[-1][0].id)
    for case_id in sorted({c.id for _, c in rows}):
        await audit.append(session, p, "message.read", "case", case_id, detail="fhir Communication")
    return fhir.bundle(
        s.self_url(), [fhir.communication(c, m) for m, c in rows], s.base, total, nxt
    )


_AS_DOCUMENT = "fhir DocumentReference"


def _signed_key(after: Any) -> tuple[datetime, str]:
    """A DocumentReference cursor's key: [signed_at, id]. One signed by this service for
    this list but of another shape (an older page's) is refused as any bad cursor is."""
    try:
        at, last = after
        return datetime.fromisoformat(at), str(last)
    except (TypeError, ValueError) as e:
        raise BadRequest("The cursor is invalid or was altered.", code="invalid-cursor") from e


async def read_document_reference(
    session: AsyncSession, p: Principal, note_id: str
) -> tuple[dict[str, Any], str]:
    """One signed note, for those who see its case in full (the note's own rule). A draft
    is not served: it is not yet advice, and may still change."""
    missing = FhirNotFound("No such document reference (a note is served once signed).")
    note, case = await load_case_child(
        session, p, Note, fhir.our_id(note_id), resource="note", not_found=missing
    )
    if note.status != NoteStatus.signed:
        await audit.append_denied(p, "note.read", "note", note.id, detail="fhir: a draft")
        raise missing
    await audit.append(session, p, "note.read", "note", note.id, detail=_AS_DOCUMENT)
    return tagged(fhir.document_reference(case, note))


async def search_document_references(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    related: str | None = None,
    date: list[str] | None = None,
    patients: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Signed notes of the cases the caller sees in full, in the order they were signed;
    `related` narrows them to one case, `patients` to one patient's (by the facility's
    reference, as a case's subject identifier), `date` to when they were signed."""
    where: list[ColumnElement[bool]] = [full_access(p), col(Note.status) == NoteStatus.signed]
    if related is not None:
        where.append(col(Note.case_id) == reference_id(related))
    for name, value in patients or []:  # subject:identifier and patient:identifier: both hold
        where += patient_clauses(
            name, value, col(Case.organization_id), col(Case.patient_reference)
        )
    where += date_clauses(col(Note.signed_at), date)
    joined = select(func.count()).select_from(Note).join(Case, col(Case.id) == col(Note.case_id))
    total = int(await session.scalar(joined.where(*where)) or 0)
    rows: list[Any] = []
    nxt = None
    if s.count:
        stmt = select(Note, Case).join(Case, col(Case.id) == col(Note.case_id)).where(*where)
        after = s.after()
        if after is not None:
            # The cursor names the last note shown: those signed after it (ties by id).
            signed, last = _signed_key(after)
            stmt = stmt.where(
                or_(
                    col(Note.signed_at) > signed,
                    and_(col(Note.signed_at) == signed, col(Note.id) > last),
                )
            )
        order = (col(Note.signed_at), col(Note.id))
        rows = list((await session.execute(stmt.order_by(*order).limit(s.count + 1))).all())
        if len(rows) > s.count:
            rows = rows[: s.count]
            last_note = rows[-1][0]
            nxt = s.next_url([last_note.signed_at.isoformat(), last_note.id])
    for note, _ in rows:
        await audit.append(session, p, "note.read", "note", note.id, detail=_AS_DOCUMENT)
    return fhir.bundle(
        s.self_url(), [fhir.document_reference(c, n) for n, c in rows], s.base, total, nxt
    )
