"""Which language a console page speaks: the one the viewer chose, else her browser's.
The catalogue itself is app/core/i18n.py (messages to people read it too)."""

from fastapi import Request

from app.core.i18n import DEFAULT, LANGUAGES

LANG_COOKIE = "console_lang"


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
