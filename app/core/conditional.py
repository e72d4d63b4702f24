"""Conditional requests (RFC 9110 §13), one way for every resource.

One ETag format: a strong tag built from the resource's version, `"<version>"`, with the
representation's variant after a dash where one resource has several (`"4-summary"`), or
where a read also says what moves without a write (a specialist's open cases and next
window: `"4-<digest>"`). Reads answer 304 when `If-None-Match` names the current tag (weak
comparison); writes answer 412 when `If-Match` names no tag of the current version
(strong comparison: any representation of version 4 is a read of version 4), and 428 when
the resource requires `If-Match` and it is missing.

Services call `check_if_match`; routers call `etag` and `with_etag`. A read declares
`If-None-Match` with `openapi_extra=CONDITIONAL_READ`; the route pipeline
(app.core.routing.AppRoute) then answers it with `answer_read`, the one place a 304 is
made: the handler's ETag, or one built from the representation's bytes where the resource
keeps no version (a facility, the caller's /me). The header parameters are `IfMatch` and
`IfNoneMatch`, so the OpenAPI schema says the same thing on every route.
"""

import hashlib
from typing import Annotated, Any

from fastapi import Header, Request, Response

from app.core.errors import AppError, PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(description="The ETag from your last read; 412 when the resource changed since."),
]
_IF_NONE_MATCH = "The ETag you hold; 304 with no body when it is still current."
IfNoneMatch = Annotated[str | None, Header(description=_IF_NONE_MATCH)]


def etag(version: int | str, variant: str | None = None) -> str:
    """The strong ETag of a resource at `version` (and of its `variant` representation)."""
    return f'"{version}-{variant}"' if variant else f'"{version}"'


def weak_etag(version: int | str) -> str:
    """The weak ETag a FHIR server sends, `W/"<versionId>"` (FHIR R4 §3.1.0.6)."""
    return f"W/{etag(version)}"


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def _version_of(tag: str) -> str:
    """The version a strong tag names: `"4-summary"` and `"4"` both name `"4"`."""
    if not (len(tag) >= 2 and tag[0] == '"' and tag[-1] == '"'):
        return tag  # a weak tag, or not a tag: never a version
    return f'"{tag[1:-1].split("-", 1)[0]}"'


def check_if_match(
    if_match: str | None, current: str, *, required: bool = False, what: str = "resource"
) -> None:
    """Refuse a write based on a stale read: 412 when `If-Match` names no representation of
    `current`'s version (nor `*`), 428 when it is `required` and absent. Nothing is changed
    either way."""
    if if_match is None or not if_match.strip():
        if required:
            raise PreconditionRequired(
                f"Send If-Match with the ETag you last read of this {what}.",
                current_etag=current,
            )
        return
    tags = _tags(if_match)
    # If-Match uses the strong comparison: a weak tag never matches (RFC 9110 §13.1.1).
    if "*" in tags or _version_of(current) in {_version_of(t) for t in tags}:
        return
    raise PreconditionFailed(
        f"The {what} has changed since you read it: read it again.", current_etag=current
    )


def matches_none(if_none_match: str | None, current: str) -> bool:
    """True when `If-None-Match` names `current` (weak comparison) or is `*`."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or _opaque(current) in {_opaque(t) for t in tags}


class NotModified(AppError):
    """The caller's copy is current (rendered as an empty 304 with the ETag)."""

    status, code, title = 304, "not-modified", "Not modified"


def check_if_none_match(request: Request, current: str) -> None:
    """Answer 304 (NotModified) early, before a read does its work, when the caller's copy
    is current. Most reads need not: `answer_read` makes the 304 after the handler."""
    if matches_none(request.headers.get("if-none-match"), current):
        raise NotModified(headers={"ETag": current})


def with_etag(response: Response, current: str) -> None:
    """Set the ETag of an answer (a read's 304 is then the pipeline's: `answer_read`)."""
    response.headers["ETag"] = current


# A read's `openapi_extra`: declares `If-None-Match` to the schema, as `IfNoneMatch` would
# be declared, and the route pipeline answers it (`answer_read`). Not a dependency that
# does nothing: FastAPI solves each dependency on every request (~20 µs in-process, 4% of
# `GET /me`).
CONDITIONAL_READ: dict[str, Any] = {
    "parameters": [
        {
            "name": "if-none-match",
            "in": "header",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": _IF_NONE_MATCH,
                "title": "If-None-Match",
            },
            "description": _IF_NONE_MATCH,
        }
    ]
}


def declares_if_none_match(openapi_extra: dict[str, Any] | None) -> bool:
    """Whether a route's `openapi_extra` carries CONDITIONAL_READ's header."""
    params = (openapi_extra or {}).get("parameters") or ()
    return any(p.get("name") == "if-none-match" and p.get("in") == "header" for p in params)


def representation_etag(body: bytes) -> str:
    """The ETag of a resource that keeps no version: a digest of the bytes it is sent as."""
    return etag(hashlib.blake2b(body, digest_size=12).hexdigest())


def answer_read(request: Request, response: Response) -> Response:
    """A conditional read's answer: a 200 gets its ETag (the handler's, or one of its bytes)
    and becomes an empty 304 when `If-None-Match` names it."""
    if response.status_code != 200:
        return response
    current = response.headers.get("etag")
    if current is None:
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            return response  # a stream: nothing to digest
        current = response.headers["ETag"] = representation_etag(body)
    if not matches_none(request.headers.get("if-none-match"), current):
        return response
    keep = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_ON_304}
    return Response(status_code=304, headers=keep)


# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5).
_KEPT_ON_304 = {"etag", "cache-control", "content-location", "date", "expires", "vary"}
