"""Shared schema pieces: strict request bodies and validated value types."""

import re
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError


class RequestBody(BaseModel):
    """Request bodies reject unknown fields: a partner app's typo is an error, not silence.
    Text holding a NUL or a lone surrogate is refused too: no database stores it. So is a
    true/false or a number sent as another JSON type ("yes", "34", 1 for true): pydantic
    would read them as a guess, and a partner app's bug would pass unseen."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _json_scalar_types(cls, value: Any, info: ValidationInfo) -> Any:
        wants = _scalar_kinds(cls).get(info.field_name or "")
        if wants is None or value is None or isinstance(value, list | dict):
            return value  # not a true/false or number field, or pydantic's own refusal
        takes_bool, takes_number = bool in wants, bool(wants & {int, float})
        if (takes_bool and isinstance(value, bool)) or (takes_number and _is_number(value)):
            return value
        if takes_number:
            raise PydanticCustomError("number_type", "Input should be a JSON number")
        raise PydanticCustomError("bool_type", "Input should be true or false")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if _unstorable(value):
            raise ValueError("text may not hold NUL characters or lone surrogates")
        return value


class Changes(RequestBody):
    """A PATCH body: each field sent is a change, each left out stays as it is. A null is
    refused (422 beside the field) unless the field is in `nullable`, where null empties it:
    read as "no change", a partner's null (meant to clear, or a bug) would pass unseen with
    a 200. The schema partners read says the same (no null where it is refused)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_it_empties(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError(
                "null_not_allowed", "may not be null: leave it out to keep what it holds"
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            arms = prop.get("anyOf")
            if name in cls.nullable or not arms:
                continue
            kept = [a for a in arms if a.get("type") != "null"]
            prop.pop("anyOf")
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
            if prop.get("default", 0) is None:
                prop.pop("default")  # left out, not null
        return schema


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALARS: dict[type, dict[str, frozenset[type]]] = {}


def _scalar_kinds(model: type[BaseModel]) -> dict[str, frozenset[type]]:
    """Per field of `model` that takes only JSON booleans and numbers (and null): which."""
    kinds = _SCALARS.get(model)
    if kinds is None:
        kinds = {}
        for name, f in model.model_fields.items():
            # A union's arms (`int | None`), each inside its Annotated (`Duration | None`);
            # anything else is one arm (`list[int]` is a list, not an int).
            union = get_origin(f.annotation) in (Union, UnionType)
            arms = get_args(f.annotation) if union else (f.annotation,)
            args = {get_args(a)[0] if get_origin(a) is Annotated else a for a in arms}
            args.discard(type(None))
            if args and args <= {bool, int, float}:
                kinds[name] = frozenset(a for a in args if isinstance(a, type))
        _SCALARS[model] = kinds
    return kinds


def example(body: dict[str, Any]) -> ConfigDict:
    """A request body's example in the OpenAPI schema: `model_config = example({...})`.
    Partners' docs and schemathesis read it; tests/test_openapi.py checks every request
    body has one and that it is valid."""
    return ConfigDict(json_schema_extra={"examples": [body]})


def form_example(body: dict[str, Any]) -> dict[str, Any]:
    """The same for a form body (a route's `openapi_extra`: FastAPI builds that schema)."""
    return {"requestBody": {"content": {"application/x-www-form-urlencoded": {"example": body}}}}


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_unstorable(v) for v in value)
    return False


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(ReadModel):
    id: str
    created_at: datetime
    updated_at: datetime


_ZONES: set[str] | None = None


def _check_zone(v: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    try:
        if v in _ZONES:
            ZoneInfo(v)
            return v
    except ZoneInfoNotFoundError:
        pass
    # A stable `code` (unknown_time_zone) lets a client say it in its own words.
    raise PydanticCustomError("unknown_time_zone", "unknown IANA time zone '{zone}'", {"zone": v})


def _usable(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_BCP47 = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
# The same rule for a browser form (the console checks a tag before sending it).
LANGUAGE_TAG_PATTERN = _BCP47.pattern
LANGUAGE_TAG_MAX_LENGTH = 35


def _check_lang(v: str) -> str:
    if not _BCP47.match(v):
        raise PydanticCustomError(
            "language_tag", "'{tag}' is not a BCP 47 language tag", {"tag": v}
        )
    parts = v.split("-")
    return "-".join([parts[0].lower(), *parts[1:]])


# The schema states the rules the validators enforce: every IANA zone name this server
# knows, and the shape of a BCP 47 tag.
TimeZoneName = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_check_zone),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(z for z in available_timezones() if _usable(z)),
            "description": "An IANA time zone name.",
            "example": "America/Argentina/Salta",
        }
    ),
]
LanguageTag = Annotated[
    str,
    StringConstraints(max_length=LANGUAGE_TAG_MAX_LENGTH),
    AfterValidator(_check_lang),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LANGUAGE_TAG_PATTERN,
            "maxLength": LANGUAGE_TAG_MAX_LENGTH,
            "example": "es",
        }
    ),
]


def _not_a_number(v: object) -> object:
    # Pydantic reads a bare number as Unix seconds; the contract's times are RFC 3339 text.
    if isinstance(v, int | float) or (
        isinstance(v, str) and re.fullmatch(r"\s*-?\d+(\.\d*)?\s*", v)
    ):
        raise ValueError("expected an RFC 3339 time with an offset, like 2026-03-02T09:00:00Z")
    return v


def _in_utc(v: datetime) -> datetime:
    # Times are returned in UTC (the contract): one sent as 09:00+03:00 was echoed, and
    # written into events, with its offset; stored it read back as 06:00Z.
    try:
        return v.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant there is
        raise PydanticCustomError(
            "datetime_out_of_range", "This time is outside the years 1 to 9999 in UTC."
        ) from None


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def SecretField(description: str, **kw: Any) -> Any:  # noqa: N802 (reads as the Field it is)
    """A response field that carries a secret (a token, a client or signing secret). An
    answer with one is never written to the idempotency store (app.core.idempotency)."""
    return Field(description=description, json_schema_extra={"x-secret": True}, **kw)


def secret_fields(model: Any) -> tuple[str, ...]:
    """The names of a response model's SecretField fields (none for anything else)."""
    fields = getattr(model, "model_fields", None) or {}
    return tuple(
        name
        for name, f in fields.items()
        if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("x-secret")
    )
