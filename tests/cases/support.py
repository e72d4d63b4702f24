"""Shared pieces for the cases tests: a valid intake body, sample files, row counts."""

import hashlib
from typing import Any

from sqlalchemy import func, select

from app.core.db import sessionmaker

API = "/api/v1"

PAD = bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + PAD
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + PAD
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + PAD
WEBP = b"RIFF\x24\x04\x00\x00WEBPVP8 \x18\x04\x00\x00" + PAD
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + PAD
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + PAD


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specialty": "dermatology",
        "urgency": "routine",
        "question": "Spreading rash on both forearms for three weeks; what treatment?",
        "summary": "Itchy, no fever. Tried topical hydrocortisone without effect.",
        "patient": {"reference": "MRN-004211", "age_years": 34, "sex": "female"},
        "languages": ["es"],
        "interpreter_needed": False,
        "consent": {"obtained": True, "method": "verbal"},
    }
    body.update(overrides)
    return body


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def count(model: Any, *where: Any) -> int:
    """A fresh, short session: holding one open would block the app's own transactions."""
    async with sessionmaker()() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rows(stmt: Any) -> list[Any]:
    async with sessionmaker()() as s:
        return list((await s.execute(stmt)).all())
