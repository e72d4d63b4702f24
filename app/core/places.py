"""The countries and time zones a person picks from, as the IANA time zone database lists
them today (tzdata's iso3166.tab and zone1970.tab): a browser's own lists still hold retired
country codes (DD, SU, YU) and the old names of zones first (Asia/Calcutta, Europe/Kiev),
so the console offers these instead and the API takes only current country codes."""

from functools import lru_cache
from importlib.resources import files


def _rows(name: str) -> list[list[str]]:
    text = (files("tzdata.zoneinfo") / name).read_text("utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of the countries and territories in use (249)."""
    return frozenset(row[0] for row in _rows("iso3166.tab"))


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The canonical zones people live in (Asia/Kolkata, Europe/Kyiv), sorted, and UTC."""
    return ("UTC", *sorted({row[2] for row in _rows("zone1970.tab")}))
