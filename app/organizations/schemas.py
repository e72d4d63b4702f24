from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.core.places import country_codes
from app.core.schemas import (
    Changes,
    LanguageTag,
    RequestBody,
    ShortText,
    Stamped,
    TimeZoneName,
    example,
)


def _current_country(code: str) -> str:
    # A retired code (DD, SU, YU) has the right shape and names no country today.
    if code not in country_codes():
        raise PydanticCustomError(
            "country_code", "'{code}' is not a current ISO 3166-1 country code", {"code": code}
        )
    return code


Country = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$", to_upper=True),
    AfterValidator(_current_country),
    # The codes in use, stated for clients (and for the schema's own checks).
    Field(json_schema_extra={"enum": sorted(country_codes())}),
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class LocalResources(RequestBody):
    """What the facility has on site, so advice fits what exists there."""

    text: str = Field(default="", max_length=4000)
    tags: list[Tag] = Field(default_factory=list, max_length=100)


class OrganizationCreate(RequestBody):
    model_config = example(
        {
            "name": "Puesto de Salud San Roque",
            "country": "AR",
            "timezone": "America/Argentina/Salta",
            "languages": ["es", "qu"],
            "local_resources": {"text": "Basic lab; no X-ray.", "tags": ["cbc", "glucose"]},
        }
    )

    name: ShortText
    country: Country = Field(description="ISO 3166-1 alpha-2")
    timezone: TimeZoneName
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    local_resources: LocalResources = Field(default_factory=LocalResources)


class OrganizationUpdate(Changes):
    model_config = example(
        {
            "local_resources": {
                "text": "Basic lab; portable ultrasound since March.",
                "tags": ["cbc", "glucose", "ultrasound"],
            }
        }
    )

    name: ShortText | None = None
    timezone: TimeZoneName | None = None
    languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    local_resources: LocalResources | None = None


class OrganizationRead(Stamped):
    name: str
    country: str
    timezone: str
    languages: list[str]
    local_resources: dict[str, object]
    version: int
