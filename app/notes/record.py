"""What notes add to a case's record: each signed note, as it was signed."""

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case
from app.notes.models import CONTENT_FIELDS, Note, NoteStatus, NoteVersion


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    # The signed version, not the live row: drafts never enter the record.
    rows = (
        await session.execute(
            select(Note, NoteVersion)
            .join(
                NoteVersion,
                and_(NoteVersion.note_id == Note.id, NoteVersion.version == Note.version),
            )
            .where(Note.case_id == case.id, Note.status == NoteStatus.signed.value)
            .order_by(Note.signed_at, Note.id)
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
