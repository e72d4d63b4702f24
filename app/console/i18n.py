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
    return _browsers(request) or DEFAULT


def guessed(request: Request) -> bool:
    """Neither chosen nor one of the browser's languages: English by default. Once she is
    signed in, the console asks for her own language instead (app.js): a phone set to
    Haitian Creole at a facility that writes French gets French, not English."""
    return request.cookies.get(LANG_COOKIE) not in LANGUAGES and _browsers(request) is None


def _browsers(request: Request) -> str | None:
    """The first of the browser's preferred languages that the console speaks."""
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
    return None
