"""Consult notes: drafting, versions, signing, acknowledgement.

Every change bumps `version` with a conditional UPDATE (`WHERE version = :seen`), so of two
edits made from the same ETag exactly one lands and the other is told it is stale."""

from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.cases.access import can_act_as_local, load_case_child, read_case_child
from app.cases.lifecycle import hold, transition
from app.cases.models import Case, CaseParticipant, CaseStatus
from app.core.clock import utcnow
from app.core.conditional import check_if_match, etag
from app.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role
from app.events.service import emit
from app.notes.models import CONTENT_FIELDS, NEEDED_TO_SIGN, Note, NoteKind, NoteStatus, NoteVersion

WRITABLE_CASE = (CaseStatus.assigned.value, CaseStatus.answered.value)


class NoteNotFound(NotFound):
    """No such note, or the caller may not see its case."""


class NoteIsSigned(Conflict):
    """A signed note is final: corrections are addendum notes."""

    code = "note-signed"


class NoteNotSigned(Conflict):
    """Only a signed note can be acknowledged."""

    code = "note-not-signed"


class CaseNotOpenForNotes(Conflict):
    """Notes are written while the case is assigned or answered."""

    code = "case-not-open-for-notes"


class NoteIncomplete(Unprocessable):
    """The note does not yet say what a clinician can act on: it is not signed."""

    code = "note-incomplete"


def _check_signable(note: Note) -> None:
    blank = [f for f in CONTENT_FIELDS if not getattr(note, f).strip()]
    needed = NEEDED_TO_SIGN.get(note.kind)
    if needed is not None:
        missing = [f for f in needed if f in blank]
        detail = "A consult note is signed with an assessment and recommendations."
        why, code = "must be written before signing", "required_to_sign"
    else:
        missing = blank if len(blank) == len(CONTENT_FIELDS) else []
        detail = "An empty note cannot be signed: write at least one field."
        why, code = "this or another field must be written before signing", "one_required_to_sign"
    if missing:
        raise NoteIncomplete(
            detail, errors=[{"pointer": f"/{f}", "detail": why, "code": code} for f in missing]
        )


class NotCaseSpecialist(Forbidden):
    """Only the case's assigned specialist or a specialist added to it writes its notes."""


async def is_case_specialist(session: AsyncSession, p: Principal, case: Case) -> bool:
    if not p.is_user or p.role != Role.specialist:
        return False
    if case.assigned_specialist_id == p.id:
        return True
    return bool(
        await session.scalar(
            select(
                exists().where(
                    col(CaseParticipant.case_id) == case.id,
                    col(CaseParticipant.user_id) == p.id,
                    col(CaseParticipant.role) == Role.specialist.value,
                )
            )
        )
    )


async def referring_clinicians(session: AsyncSession, case: Case) -> list[str]:
    """Who asked: the submitting clinician, or (when a partner app submitted) the facility's
    active clinicians."""
    if case.submitted_by_id:
        return [case.submitted_by_id]
    rows = await session.scalars(
        select(col(User.id))
        .where(
            col(User.organization_id) == case.organization_id,
            col(User.role) == Role.clinician.value,
            col(User.active).is_(True),
        )
        .order_by(col(User.id))
        .limit(50)
    )
    return list(rows)


def _snapshot(note: Note, author_id: str) -> NoteVersion:
    return NoteVersion(
        note_id=note.id,
        version=note.version,
        status=note.status,
        author_id=author_id,
        created_at=note.updated_at,
        **{f: getattr(note, f) for f in CONTENT_FIELDS},
    )


async def create(session: AsyncSession, p: Principal, case: Case, data: dict[str, Any]) -> Note:
    if not await is_case_specialist(session, p, case):
        raise NotCaseSpecialist("Only the case's specialists write its notes.")
    if case.status not in WRITABLE_CASE:
        raise CaseNotOpenForNotes(f"A case that is {case.status} takes no new notes.")
    amends_id = data.pop("amends_id", None)
    if amends_id is not None:
        target = await session.scalar(
            select(Note).where(col(Note.id) == amends_id, col(Note.case_id) == case.id)
        )
        if target is None or data["kind"] != NoteKind.addendum:
            raise Unprocessable(
                "amends_id must name a note of this case, from an addendum.",
                errors=[
                    {
                        "pointer": "/amends_id",
                        "detail": "not a note of this case, or not an addendum",
                    }
                ],
            )
        if target.status != NoteStatus.signed:
            # An addendum corrects what was signed; a draft is changed itself (and a
            # partner's record would be pointed at a note it cannot read).
            raise Unprocessable(
                "An addendum corrects a signed note: change the draft itself.",
                errors=[{"pointer": "/amends_id", "detail": "not signed", "code": "not_signed"}],
            )
    now = utcnow()
    note = Note(
        case_id=case.id,
        author_id=p.id,
        amends_id=amends_id,
        created_at=now,
        updated_at=now,
        **{**data, "kind": NoteKind(data["kind"]).value},
    )
    session.add(note)
    await session.flush()
    session.add(_snapshot(note, p.id))
    await audit.append(session, p, "note.create", "note", note.id)
    return note


async def get_visible(session: AsyncSession, p: Principal, note_id: str) -> tuple[Note, Case]:
    """The note and its case, if the caller sees the case in full; 404 otherwise."""
    note, case = await load_case_child(
        session, p, Note, note_id, resource="note", not_found=NoteNotFound("No such note.")
    )
    return note, case


async def read(session: AsyncSession, p: Principal, note_id: str) -> dict[str, Any]:
    """The note as it is shown (a read on the fast lane), audited."""
    note = await read_case_child(
        session, p, Note, note_id, resource="note", not_found=NoteNotFound("No such note.")
    )
    await audit.append(session, p, "note.read", "note", note_id)
    return note


async def list_for_case(
    session: AsyncSession,
    p: Principal,
    case: Case,
    status: NoteStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Note], str | None]:
    """The notes of a case the caller sees in full (the single read's rule), oldest first.
    Drafts are listed too: a specialist finds her draft again from any device."""
    stmt = select(Note).where(col(Note.case_id) == case.id)
    if status is not None:
        stmt = stmt.where(col(Note.status) == status.value)
    page = await keyset_page(session, stmt, col(Note.id), limit, cursor, descending=False)
    await audit.append(session, p, "note.list", "case", case.id, detail=f"{len(page[0])} note(s)")
    return page


async def versions(
    session: AsyncSession, p: Principal, note_id: str, limit: int, cursor: str | None
) -> tuple[list[NoteVersion], str | None]:
    note, _ = await get_visible(session, p, note_id)
    page = await keyset_page(
        session,
        select(NoteVersion).where(col(NoteVersion.note_id) == note.id),
        col(NoteVersion.version),
        limit,
        cursor,
        descending=False,
    )
    await audit.append(session, p, "note.versions.read", "note", note.id)
    return page


def note_tag(version: int, acknowledged_at: object) -> str:
    """A note's ETag. Acknowledging keeps the version (the content did not change) but
    changes what a read shows, so the tag says it: a copy cached before is not current."""
    return etag(version, "acknowledged" if acknowledged_at is not None else None)


async def _writable(
    session: AsyncSession, p: Principal, note_id: str, if_match: str | None
) -> tuple[Note, Case, int]:
    """The draft note the caller may change, its case, and the version they last read."""
    note, case = await get_visible(session, p, note_id)
    if not await is_case_specialist(session, p, case):
        raise NotCaseSpecialist("Only the case's specialists change its notes.")
    if not if_match or not if_match.strip():
        # A lost update to a note harms a patient: 428 before anything else is said of it.
        current = note_tag(note.version, note.acknowledged_at)
        check_if_match(if_match, current, required=True, what="note")
    if note.status == NoteStatus.signed:
        raise NoteIsSigned("This note is signed and final; write an addendum to correct it.")
    check_if_match(if_match, etag(note.version), required=True, what="note")
    # The write is still conditional on this version (If-Match: * names whatever is current).
    return note, case, note.version


async def _conditional_update(
    session: AsyncSession, note: Note, seen: int, values: dict[str, Any]
) -> None:
    """Apply the change only if nobody changed the note since `seen` (412) or signed it (409)."""
    result = await session.execute(
        update(Note)
        .where(
            col(Note.id) == note.id,
            col(Note.version) == seen,
            col(Note.status) == NoteStatus.draft.value,
        )
        .values(version=seen + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        await session.refresh(note)
        if note.status == NoteStatus.signed:
            raise NoteIsSigned("This note was signed meanwhile; write an addendum.")
        raise PreconditionFailed(
            "Someone changed this note meanwhile: read it again.",
            current_etag=etag(note.version),
        )
    await session.refresh(note)


async def change(
    session: AsyncSession, p: Principal, note_id: str, if_match: str | None, data: dict[str, Any]
) -> Note:
    note, _, seen = await _writable(session, p, note_id, if_match)
    values = {k: v for k, v in data.items() if k in CONTENT_FIELDS}  # no null: NoteUpdate
    await _conditional_update(session, note, seen, {**values, "updated_at": utcnow()})
    session.add(_snapshot(note, p.id))
    await audit.append(
        session,
        p,
        "note.update",
        "note",
        note.id,
        detail=f"version {note.version}: {', '.join(sorted(values)) or 'no fields'}",
    )
    return note


async def sign(session: AsyncSession, p: Principal, note_id: str, if_match: str | None) -> Note:
    note, case, seen = await _writable(session, p, note_id, if_match)
    await hold(session, case)  # the clinician may be cancelling the case at this moment
    if case.status not in WRITABLE_CASE:
        raise CaseNotOpenForNotes(f"A case that is {case.status} cannot have notes signed.")
    # What is checked is the version `seen`; the conditional UPDATE signs only that version.
    _check_signable(note)
    now = utcnow()
    await _conditional_update(
        session,
        note,
        seen,
        {
            "status": NoteStatus.signed.value,
            "signed_at": now,
            "signed_by_id": p.id,
            "updated_at": now,
        },
    )
    session.add(_snapshot(note, p.id))
    # The first signed consult note answers the case; later ones (and progress notes) do not.
    if note.kind == NoteKind.consult and case.status == CaseStatus.assigned:
        await transition(session, case, CaseStatus.answered, p.id, note_id=note.id)
    await emit(
        session,
        "note.signed",
        "note",
        note.id,
        organization_id=case.organization_id,
        audience=await referring_clinicians(session, case),
        payload={
            "note_id": note.id,
            "case_id": case.id,
            "kind": note.kind,
            "version": note.version,
            "signed_by_id": p.id,
        },
    )
    await audit.append(session, p, "note.sign", "note", note.id, detail=f"version {note.version}")
    return note


async def acknowledge(
    session: AsyncSession, p: Principal, note_id: str, if_match: str | None
) -> Note:
    note, case = await get_visible(session, p, note_id)
    if not can_act_as_local(p, case):
        raise Forbidden("Only the referring facility acknowledges a note.")
    if note.status != NoteStatus.signed:
        raise NoteNotSigned("Only a signed note can be acknowledged.")
    # Held and read again: of two acknowledgements at once the second finds the first's.
    await session.refresh(note, with_for_update={"key_share": True})
    check_if_match(if_match, note_tag(note.version, note.acknowledged_at), what="note")
    if note.acknowledged_at is None:
        # Acknowledgement is not a content change: the version stays (the ETag says it).
        note.acknowledged_at = utcnow()
        note.acknowledged_by_id = p.id
        await session.flush()  # listeners of note.acknowledged (reporting) read it
        await emit(
            session,
            "note.acknowledged",
            "note",
            note.id,
            organization_id=case.organization_id,
            audience=[note.author_id],
            payload={"note_id": note.id, "case_id": case.id, "acknowledged_by_id": p.id},
        )
        await audit.append(session, p, "note.acknowledge", "note", note.id)
    return note
