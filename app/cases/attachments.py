"""Attachments: a streamed multipart upload written to disk, typed from its bytes.

The request body is fed chunk by chunk to python-multipart's push parser; the file part's
bytes are written (and hashed) in a worker thread in batches, so neither the whole file nor
the file I/O ever sits on the event loop. The file lands in a temporary name under
`Settings.data_dir` and is moved into place only once it is complete, accepted, and its row
is flushed; any failure, including a rollback after that, removes it again.
"""

import asyncio
import contextlib
import hashlib
import os
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.access import load_case_child
from app.cases.models import Attachment, Case, CaseStatus
from app.core.config import get_settings
from app.core.db import new_id, utcnow
from app.core.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from app.core.pagination import keyset_page
from app.core.principal import Principal, Scope
from app.events.service import emit

ALLOWED = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/heif": "HEIC",
    "application/pdf": "PDF",
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
SNIFF_BYTES = 32
_FLUSH_BYTES = 256 * 1024  # write to disk in batches of this size
_MAX_FIELD_BYTES = 1000  # the description field


class AttachmentTypeNotAllowed(UnsupportedMediaType):
    """The file's bytes are not one of the accepted types, whatever its name says."""

    code = "attachment-type-not-allowed"


class AttachmentTooLarge(PayloadTooLarge):
    """The file is larger than Settings.max_attachment_bytes."""

    code = "attachment-too-large"


class MalformedUpload(BadRequest):
    """The multipart body cannot be parsed."""

    code = "malformed-multipart"


class AttachmentNotFound(NotFound):
    """No such attachment, or the caller may not see its case in full."""


def detect_type(head: bytes) -> str | None:
    """The content type the leading bytes prove, or None: names and headers are not trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_filename(name: str | None) -> str:
    """A display name only (files are stored by id): no paths, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name.strip(" .")[:255] or "attachment"


def storage_root() -> Path:
    return Path(get_settings().data_dir) / "attachments"


def path_of(storage_key: str) -> Path:
    return storage_root() / storage_key


@dataclass
class Upload:
    """A file received in full into a temporary file, not yet accepted."""

    tmp_path: Path
    filename: str = "attachment"
    size: int = 0
    sha256: str = ""
    content_type: str | None = None
    description: str | None = None


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """Drives the push parser and collects what it found between two chunks."""

    def __init__(self, boundary: bytes) -> None:
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.file_chunks: list[bytes] = []
        self.finished_parts: list[_Part] = []
        self.in_file = False
        self.open_part = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_header_field": self._hfield,
                "on_header_value": self._hvalue,
                "on_header_end": self._hend,
                "on_headers_finished": self._hdone,
            },
        )

    def _begin(self) -> None:
        self.part = _Part()
        self.in_file = False
        self.open_part = True

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _hend(self) -> None:
        self.part.headers.append((self.header_name.lower(), self.header_value))
        self.header_name = self.header_value = b""

    def _hdone(self) -> None:
        disposition = dict(self.part.headers).get(b"content-disposition")
        _, opts = parse_options_header(disposition)
        if b"name" not in opts:
            raise MalformedUpload("Each part needs a Content-Disposition name.")
        self.part.name = opts[b"name"].decode("utf-8", "replace")
        if b"filename" in opts:
            self.part.filename = opts[b"filename"].decode("utf-8", "replace")
        self.in_file = self.part.name == "file"
        if self.part.name not in ("file", "description"):
            raise Unprocessable(
                f"Unknown form field {self.part.name!r}.",
                errors=[{"pointer": f"/{self.part.name}", "detail": "unknown field"}],
            )

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.file_chunks.append(data[start:end])
        else:
            self.part.data += data[start:end]
            if len(self.part.data) > _MAX_FIELD_BYTES:
                raise Unprocessable(
                    "The description is too long.",
                    errors=[{"pointer": f"/{self.part.name}", "detail": "at most 500 characters"}],
                )

    def _end(self) -> None:
        self.finished_parts.append(self.part)
        self.open_part = False


def _boundary(content_type: str | None) -> bytes:
    ctype, opts = parse_options_header(content_type or "")
    if ctype != b"multipart/form-data":
        raise UnsupportedMediaType("Send the file as multipart/form-data in a part named 'file'.")
    boundary = opts.get(b"boundary")
    if not boundary:
        raise MalformedUpload("The multipart body has no boundary.")
    return boundary


def _open_tmp() -> tuple[Path, BinaryIO]:
    tmp_dir = storage_root() / ".incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / f"{secrets.token_hex(16)}.part"
    return path, open(path, "xb")  # noqa: SIM115 - closed by receive_upload


def _write(fh: BinaryIO, hasher: Any, chunks: list[bytes]) -> None:
    for c in chunks:
        hasher.update(c)  # releases the GIL for large buffers
        fh.write(c)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def receive_upload(stream: AsyncIterator[bytes], content_type: str | None) -> Upload:
    """Parse the multipart body into a temporary file; every failure leaves nothing behind."""
    boundary = _boundary(content_type)
    limit = get_settings().max_attachment_bytes
    tmp_path, fh = await asyncio.to_thread(_open_tmp)
    up = Upload(tmp_path=tmp_path)
    hasher = hashlib.sha256()
    rx = _Receiver(boundary)
    pending: list[bytes] = []
    pending_bytes = 0
    head = b""
    files_seen = 0
    try:
        async for chunk in stream:
            if not chunk:
                continue
            try:
                rx.parser.write(chunk)
            except (Unprocessable, MalformedUpload):
                raise
            except Exception as e:  # python-multipart's parse errors
                raise MalformedUpload("The multipart body is malformed.") from e
            for part in rx.finished_parts:
                if part.name == "file":
                    files_seen += 1
                    up.filename = safe_filename(part.filename)
                elif part.name == "description":
                    up.description = part.data.decode("utf-8", "replace").strip()[:500] or None
            rx.finished_parts.clear()
            if files_seen > 1:
                raise Unprocessable(
                    "Send one file per request.",
                    errors=[{"pointer": "/file", "detail": "only one file per request"}],
                )
            for c in rx.file_chunks:
                up.size += len(c)
                if len(head) < SNIFF_BYTES:
                    head += c[: SNIFF_BYTES - len(head)]
                    # Refuse a wrong type as soon as its leading bytes are in, not after 20 MB.
                    if len(head) >= SNIFF_BYTES and detect_type(head) is None:
                        raise _not_allowed()
                if up.size > limit:
                    raise AttachmentTooLarge(f"The file exceeds {limit} bytes.", max_bytes=limit)
                pending.append(c)
                pending_bytes += len(c)
            rx.file_chunks.clear()
            if pending_bytes >= _FLUSH_BYTES:
                await asyncio.to_thread(_write, fh, hasher, pending)
                pending, pending_bytes = [], 0
        try:
            rx.parser.finalize()
        except Exception as e:
            raise MalformedUpload("The multipart body ended early.") from e
        if rx.open_part:
            raise MalformedUpload("The multipart body ended inside a part.")
        if files_seen == 0:
            raise Unprocessable(
                "No file: send it in a part named 'file'.",
                errors=[{"pointer": "/file", "detail": "required"}],
            )
        if pending:
            await asyncio.to_thread(_write, fh, hasher, pending)
        await asyncio.to_thread(fh.close)
        if up.size == 0:
            raise Unprocessable(
                "The file is empty.", errors=[{"pointer": "/file", "detail": "empty"}]
            )
        up.content_type = detect_type(head)
        if up.content_type is None:
            raise _not_allowed()
        up.sha256 = hasher.hexdigest()
        return up
    except BaseException:
        await asyncio.to_thread(_discard, fh, tmp_path)
        raise


def _discard(fh: BinaryIO, path: Path) -> None:
    with contextlib.suppress(OSError):
        fh.close()
    _unlink(path)


def _not_allowed() -> AttachmentTypeNotAllowed:
    return AttachmentTypeNotAllowed(
        "The file is not a JPEG, PNG, WebP, HEIC image or a PDF (judged by its bytes, not its "
        "name or declared type).",
        allowed=sorted(set(ALLOWED.values())),
    )


def _promote(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def _remove_on_rollback(session: AsyncSession, path: Path) -> None:
    """The row and the file stand or fall together: a rolled-back request removes the file."""

    def _after_rollback(_: Any) -> None:
        _unlink(path)

    event.listen(
        session.sync_session,
        "after_soft_rollback",
        lambda s, previous: _after_rollback(s) if previous.parent is None else None,
    )


async def store(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    stream: AsyncIterator[bytes],
    content_type: str | None,
) -> Attachment:
    """Receive one file for a case the caller sees in full (FullCase), and record it."""
    actor.require_scope(Scope.cases_write)
    _check_open(case.status)
    # The caller is authorised; end the read-only transaction before receiving the bytes, so
    # a slow clinic link does not hold a pooled connection (or SQLite's one write lock) for
    # the minutes 20 MB can take. The row is written in a fresh transaction afterwards.
    await session.commit()
    up = await receive_upload(stream, content_type)
    att_id = new_id("att")
    key = f"{case.id}/{att_id}"
    final = path_of(key)
    try:
        # It may have been closed or cancelled while the file was arriving.
        _check_open(await session.scalar(select(col(Case.status)).where(col(Case.id) == case.id)))
        await asyncio.to_thread(_promote, up.tmp_path, final)
        _remove_on_rollback(session, final)
        now = utcnow()
        att = Attachment(
            id=att_id,
            case_id=case.id,
            filename=up.filename,
            created_at=now,
            updated_at=now,
            content_type=up.content_type or "",
            size_bytes=up.size,
            sha256=up.sha256,
            description=up.description,
            storage_key=key,
            uploaded_by_id=actor.id,
        )
        session.add(att)
        await session.flush()
        await emit(
            session,
            "case.attachment_added",
            "case",
            case.id,
            organization_id=case.organization_id,
            payload={
                "case_id": case.id,
                "attachment_id": att.id,
                "content_type": att.content_type,
                "size_bytes": att.size_bytes,
            },
        )
        await audit.append(
            session,
            actor,
            "attachment.create",
            "attachment",
            att.id,
            detail=f"case:{case.id} sha256:{up.sha256}",
        )
    except BaseException:
        await asyncio.to_thread(_unlink, up.tmp_path)
        await asyncio.to_thread(_unlink, final)
        raise
    return att


def _check_open(status: str | None) -> None:
    if status in (CaseStatus.closed, CaseStatus.cancelled):
        raise Conflict(f"The case is {status}; nothing more can be added.", code="case-closed")


async def list_for_case(
    session: AsyncSession, actor: Principal, case: Case, limit: int, cursor: str | None
) -> tuple[list[Attachment], str | None]:
    stmt = select(Attachment).where(col(Attachment.case_id) == case.id)
    items, nxt = await keyset_page(session, stmt, Attachment.id, limit, cursor, descending=False)
    await audit.append(session, actor, "attachment.list", "case", case.id)
    return items, nxt


async def open_content(
    session: AsyncSession, actor: Principal, attachment_id: str
) -> tuple[Attachment, Path]:
    """The attachment and its file, for those who see its case in full; 404 for anyone else."""
    att, _ = await load_case_child(
        session,
        actor,
        Attachment,
        attachment_id,
        resource="attachment",
        not_found=AttachmentNotFound("No such attachment."),
    )
    path = path_of(att.storage_key)
    if not await asyncio.to_thread(path.is_file):
        raise AttachmentNotFound("The attachment's file is missing.")
    await audit.append(session, actor, "attachment.read", "attachment", att.id)
    return att, path
