"""ETag / If-Match for versioned documents (a note's or follow-up's `version` column)."""

from app.core.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, *, required: bool) -> int | None:
    """The version the caller last saw, from If-Match; None when absent and allowed."""
    if if_match is None or not if_match.strip():
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag you last read: a lost update to a note harms a "
                "patient."
            )
        return None
    value = if_match.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise PreconditionFailed("If-Match does not match the current version.") from None


def check(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise PreconditionFailed(
            "If-Match does not match the current version: read it again.",
            current_etag=etag(current),
        )
