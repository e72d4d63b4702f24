"""The console's message catalogue: English, Spanish and French (the languages the large
mission networks work in). One JSON file per language under i18n/; a key missing in one
language falls back to English, so a page never shows a bare key."""

import json
from functools import lru_cache
from pathlib import Path

from fastapi import Request

LANGUAGES = {"en": "English", "es": "Español", "fr": "Français"}
DEFAULT = "en"
LANG_COOKIE = "console_lang"
_DIR = Path(__file__).resolve().parent / "i18n"


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str]:
    base: dict[str, str] = json.loads((_DIR / f"{DEFAULT}.json").read_text("utf-8"))
    if lang != DEFAULT:
        base = {**base, **json.loads((_DIR / f"{lang}.json").read_text("utf-8"))}
    return base


@lru_cache(maxsize=len(LANGUAGES))
def catalogue_json(lang: str) -> str:
    # Inside <script type="application/json">: no "<" may close the element early.
    return json.dumps(catalogue(lang), ensure_ascii=False).replace("<", "\\u003c")


def pick(request: Request) -> str:
    """The cookie the language links set; else the browser's preference; else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.split("-")[0].lower()))
    for _, code in sorted(ranked, key=lambda r: -r[0]):
        if code in LANGUAGES:
            return code
    return DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    text = catalogue(lang).get(key, key)
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
