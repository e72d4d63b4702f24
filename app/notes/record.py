"""What notes add to a case's record: each signed note, as it was signed."""

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case
from app.notes.models import CONTENT_FIELDS, Note, NoteStatus, NoteVersion


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    # The signed version, not the live row: drafts never enter the record.
    rows = (
        await session.execute(
            select(Note, NoteVersion)
            .join(
                NoteVersion,
                and_(
                    col(NoteVersion.note_id) == col(Note.id),
                    col(NoteVersion.version) == col(Note.version),
                ),
            )
            .where(col(Note.case_id) == case.id, col(Note.status) == NoteStatus.signed.value)
            .order_by(col(Note.signed_at), col(Note.id))
        )
    ).all()
    out: list[dict[str, Any]] = []
    for note, version in rows:
        out.append(
            {
                "at": note.signed_at,
                "type": "note",
                "id": note.id,
                "kind": note.kind,
                "version": version.version,
                "author_id": note.author_id,
                "signed_by_id": note.signed_by_id,
                "amends_id": note.amends_id,
                **{f: getattr(version, f) for f in CONTENT_FIELDS},
            }
        )
        if note.acknowledged_at:
            out.append(
                {
                    "at": note.acknowledged_at,
                    "type": "note_acknowledged",
                    "id": note.id,
                    "acknowledged_by_id": note.acknowledged_by_id,
                }
            )
    return out
