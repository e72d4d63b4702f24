"""The console's static files, served by the app itself (no CDN, no build step).

URLs carry a version (a digest of every file, computed once at start-up), so a browser
keeps each file for a year and a new release is fetched at once. Text files are gzipped
once, on first request, and kept in memory: the console's files are small and few.
"""

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from fastapi import Request, Response

from app.core.i18n import LANGUAGES, catalogue_json

STATIC_DIR = Path(__file__).resolve().parent / "static"
COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".html", ".txt", ".md", ".webmanifest"}
TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json"}


@lru_cache(maxsize=1)
def version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(STATIC_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def url(path: str) -> str:
    return f"/static/{version()}/{path}"


@lru_cache(maxsize=256)
def _load(path: str) -> tuple[bytes, bytes | None, str, str] | None:
    """(raw bytes, gzipped bytes or None, content type, etag) of a file under STATIC_DIR."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        return None
    raw = target.read_bytes()
    ctype = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    ctype = ctype or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith(("json", "javascript", "+xml")):
        ctype += "; charset=utf-8"
    packed = gzip.compress(raw, 9, mtime=0) if target.suffix in COMPRESSIBLE else None
    return raw, packed, ctype, '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'


def gzip_accepted(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@lru_cache(maxsize=len(LANGUAGES))
def _catalogue(lang: str) -> tuple[bytes, bytes | None, str, str]:
    raw = catalogue_json(lang).encode()
    tag = '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'
    return raw, gzip.compress(raw, 9, mtime=0), "application/json; charset=utf-8", tag


def catalogue_url(lang: str) -> str:
    """The messages the page's scripts say things with, in her language: a file of its own,
    kept by the browser like the scripts (every page carried its 11 kB before)."""
    return f"/i18n/{_catalogue(lang)[3].strip(chr(34))}/{lang}.json"


def serve_catalogue(request: Request, ver: str, lang: str) -> Response:
    if lang not in LANGUAGES:
        return Response("Not found", status_code=404, media_type="text/plain")
    found = _catalogue(lang)
    return _answer(request, found, fresh=f'"{ver}"' == found[3])


def serve(request: Request, ver: str, path: str) -> Response:
    found = _load(path)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return _answer(request, found, fresh=ver == version())


def _answer(request: Request, found: tuple[bytes, bytes | None, str, str], fresh: bool) -> Response:
    raw, packed, ctype, tag = found
    headers = {
        "ETag": tag,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        # Only the current version may be kept for good; an old URL still answers, briefly.
        "Cache-Control": "public, max-age=31536000, immutable" if fresh else "no-cache",
    }
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if packed is not None and gzip_accepted(request):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=ctype, headers=headers)
    return Response(raw, media_type=ctype, headers=headers)
