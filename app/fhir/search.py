"""FHIR search as we serve it: date prefixes, token lists, references, `_count` clamped,
an opaque signed cursor for the next page, and unknown parameters ignored unless the
caller sends `Prefer: handling=strict` (FHIR R4 §3.1.1.4: lenient by default)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_

from app.core.errors import BadRequest
from app.core.pagination import decode_cursor, encode_cursor
from app.fhir.resources import SYSTEM, our_id

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Control parameters a FHIR client may send that change nothing here; never "unknown".
IGNORED = frozenset({"_format", "_pretty", "_summary", "_total", "_totalMethod", "_elements"})

# A FHIR date or dateTime with an optional prefix, spelled so that every string the
# pattern admits is a real instant (no 30 February, no hour 24): a client or a fuzzer that
# reads the schema can never send a well-formed value the server then refuses.
_Y = r"(19|20)[0-9][0-9]"
_LEAP = r"(19|20)(0[48]|[2468][048]|[13579][26])|2000"
_MD = (
    r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31"
)
_TIME = (
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])"
)
DATE_PATTERN = (
    rf"^(eq|ne|gt|lt|ge|le)?({_Y}(-(0[1-9]|1[0-2]))?"
    rf"|({_Y}-({_MD})|({_LEAP})-02-29)({_TIME})?)$"
)
DATE_DESCRIPTION = (
    "FHIR date search: an optional prefix (eq, ne, gt, lt, ge, le; eq when absent) and a"
    " date or dateTime (a date is a day in UTC). Repeat the parameter to combine bounds"
    " (`ge2026-01-01&lt2026-02-01`)."
)
REFERENCE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def _typed_reference(kind: str) -> str:
    return rf"^({kind}/)?[A-Za-z0-9._-]{{1,64}}$"


def reference_pattern(kind: str) -> str:
    """`{kind}/{id}` or the bare id."""
    return _typed_reference(kind)


def reference_id(value: str | None) -> str | None:
    """`Organization/org-abc` or `org-abc` -> `org_abc`."""
    if value is None:
        return None
    return our_id(value.rpartition("/")[2])


def token_pattern(values: tuple[str, ...]) -> str:
    """A comma-separated list (FHIR's OR) of the given codes."""
    one = "|".join(v.replace("-", r"\-") for v in values)
    return rf"^({one})(,({one}))*$"


def tokens(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


@dataclass(frozen=True)
class DateBound:
    prefix: str
    lo: datetime  # the value's range, [lo, hi): a date is its whole day
    hi: datetime


def _range(text: str) -> tuple[datetime, datetime]:
    if "T" in text:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        try:
            t = t.astimezone(UTC)
        except OverflowError:  # pragma: no cover - the pattern keeps years in 1900-2099
            t = t.replace(tzinfo=UTC)
        step = timedelta(seconds=1) if t.microsecond == 0 else timedelta(microseconds=1)
        return t, t + step
    parts = [int(x) for x in text.split("-")]
    if len(parts) == 3:
        lo = datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
        return lo, lo + timedelta(days=1)
    if len(parts) == 2:
        y, m = parts
        nxt = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        return datetime(y, m, 1, tzinfo=UTC), nxt
    return datetime(parts[0], 1, 1, tzinfo=UTC), datetime(parts[0] + 1, 1, 1, tzinfo=UTC)


def parse_date(value: str) -> DateBound:
    prefix = value[:2] if value[:2].isalpha() else "eq"
    lo, hi = _range(value[2:] if value[:2].isalpha() else value)
    return DateBound(prefix, lo, hi)


def patient_clauses(
    name: str, value: str, org_column: Any, ref_column: Any
) -> list[ColumnElement[bool]]:
    """A patient's identifier as a token, `[system|]value`: the facility's reference, and
    with a system (`.../organization/{id}/patient`, as a subject names it) that facility
    only. A system of anyone else's matches nothing, as FHIR's token search says."""
    parts = _token_parts(value)
    if len(parts) > 2:
        raise BadRequest(
            "A token is [system|]value: escape a bar in a value as \\|.",
            code="invalid-search-parameter",
            errors=[{"pointer": f"#query/{name}", "detail": "more than one |"}],
        )
    ref = parts[-1]
    out: list[ColumnElement[bool]] = [ref_column == ref]
    if len(parts) == 2:
        # "|value" asks for an identifier with no system: every patient here has one.
        head, tail = f"{SYSTEM}/organization/", "/patient"
        system = parts[0]
        ours = system.startswith(head) and system.endswith(tail) and len(system) > len(head + tail)
        out.append(org_column == (system[len(head) : -len(tail)] if ours else ""))
    return out


def _token_parts(value: str) -> list[str]:
    """A token split at its unescaped bars, with FHIR's escapes (\\| \\, \\$ \\\\) undone."""
    parts, cur, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            cur.append(value[i + 1])
            i += 2
            continue
        if ch == "|":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def date_clauses(column: Any, values: list[str] | None) -> list[ColumnElement[bool]]:
    """SQL for each date parameter given (all must hold)."""
    out: list[ColumnElement[bool]] = []
    for b in map(parse_date, values or []):
        out.append(
            {
                "eq": and_(column >= b.lo, column < b.hi),
                "ne": (column < b.lo) | (column >= b.hi),
                "ge": column >= b.lo,
                "gt": column >= b.hi,
                "le": column < b.hi,
                "lt": column < b.lo,
            }[b.prefix]
        )
    return out


def date_matches(t: datetime, values: list[str] | None) -> bool:
    """The same test as `date_clauses`, for instants computed in Python."""
    for b in map(parse_date, values or []):
        ok = {
            "eq": b.lo <= t < b.hi,
            "ne": not (b.lo <= t < b.hi),
            "ge": t >= b.lo,
            "gt": t >= b.hi,
            "le": t < b.hi,
            "lt": t < b.lo,
        }[b.prefix]
        if not ok:
            return False
    return True


def window(
    values: list[str] | None, now: datetime, span: timedelta, longest: timedelta
) -> tuple[datetime, datetime]:
    """The time range a search of computed instants covers: from its lower bound (now when
    none is given) to its upper bound (`span` later when none), at most `longest` long."""
    lows, highs = [], []
    for b in map(parse_date, values or []):
        if b.prefix in ("eq", "ge"):
            lows.append(b.lo)
        if b.prefix == "gt":
            lows.append(b.hi)
        if b.prefix in ("eq", "le"):
            highs.append(b.hi)
        if b.prefix == "lt":
            highs.append(b.lo)
    lo = max(lows) if lows else now
    hi = min(highs) if highs else lo + span
    return lo, max(lo, min(hi, lo + longest))


@dataclass
class Search:
    """One search request: where its links point, and which page it asks for."""

    base: str  # .../fhir
    resource_type: str
    params: list[tuple[str, str]] = field(default_factory=list)  # the ones used, in order
    count: int = DEFAULT_COUNT
    cursor: str | None = None

    def _url(self, extra: list[tuple[str, str]]) -> str:
        query = urlencode([*self.params, ("_count", str(self.count)), *extra])
        return f"{self.base}/{self.resource_type}?{query}"

    def self_url(self) -> str:
        return self._url([("_cursor", self.cursor)] if self.cursor else [])

    def next_url(self, key: Any) -> str:
        return self._url([("_cursor", encode_cursor(key, f"fhir.{self.resource_type}"))])

    def after(self) -> Any:
        """The key the previous page ended at (None on the first page)."""
        if not self.cursor:
            return None
        return decode_cursor(self.cursor, f"fhir.{self.resource_type}")


def clamp_count(count: int | None) -> int:
    return DEFAULT_COUNT if count is None else min(count, MAX_COUNT)


def unknown_parameters(given: list[str], known: frozenset[str]) -> list[str]:
    return sorted({n for n in given if n not in known and n not in IGNORED})


# A filter to one patient is never ignored, whatever the handling asked: ignored, the search
# would answer every patient's resources the caller sees, and an EMR would file them in one
# patient's chart. (This server serves no Patient: a case's patient is an identifier.)
PATIENT_FILTERS = ("patient", "subject")


def refuse_patient_filters(unknown: list[str]) -> None:
    narrowing = [n for n in unknown if n.split(":", 1)[0].split(".", 1)[0] in PATIENT_FILTERS]
    if narrowing:
        raise BadRequest(
            "A search by patient is refused rather than ignored: this server serves no Patient "
            "resource. DocumentReference takes subject:identifier=<the facility's patient "
            "reference>.",
            code="unknown-search-parameter",
            errors=[
                {"pointer": f"#query/{n}", "detail": "not supported: it would not narrow"}
                for n in narrowing
            ],
        )


def refuse_unknown(unknown: list[str]) -> None:
    """`Prefer: handling=strict`: a parameter the server does not support is an error."""
    if unknown:
        raise BadRequest(
            "Unsupported search parameters (sent with Prefer: handling=strict).",
            code="unknown-search-parameter",
            errors=[{"pointer": f"#query/{n}", "detail": "not supported"} for n in unknown],
        )
