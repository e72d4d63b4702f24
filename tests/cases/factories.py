"""Attachments written the way an upload leaves them: a row and a file under data_dir."""

from app.cases.attachments import detect_type, path_of
from app.cases.models import Attachment
from app.core.db import new_id, sessionmaker
from tests.cases.support import PNG, sha


async def make_attachment(
    case_id: str, data: bytes = PNG, filename: str = "rash.png", uploaded_by_id: str | None = None
) -> Attachment:
    att_id = new_id("att")
    key = f"{case_id}/{att_id}"
    path = path_of(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    async with sessionmaker()() as s:
        att = Attachment(
            id=att_id,
            case_id=case_id,
            filename=filename,
            content_type=detect_type(data[:32]) or "application/octet-stream",
            size_bytes=len(data),
            sha256=sha(data),
            storage_key=key,
            uploaded_by_id=uploaded_by_id,
        )
        s.add(att)
        await s.commit()
        return att
