"""The service's message catalogue: English, Spanish and French (the languages the large
mission networks work in). One JSON file per language under i18n/; a key missing in one
language falls back to English, so a page never shows a bare key. The console's pages and
the messages sent to people (a specialty's or a role's name) read the same catalogue, so a
name is written once."""

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = {"en": "English", "es": "Español", "fr": "Français"}
DEFAULT = "en"
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


def translate(lang: str, key: str, **values: object) -> str:
    text = catalogue(lang).get(key, key)
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
