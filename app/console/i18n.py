"""Which language a console page speaks: the one the viewer chose, else her browser's.
The catalogue itself is app/core/i18n.py (messages to people read it too)."""

from fastapi import Request

from app.core.i18n import DEFAULT, LANGUAGES

LANG_COOKIE = "console_lang"
# The language the console found for whoever signed in on this browser (app.js asks for her
# own when the browser asks for none it has): for this browser session only, and gone at
# sign-out, so the next person on a clinic's shared phone is asked again.
AUTO_LANG_COOKIE = "console_lang_found"


def pick(request: Request) -> str:
    """The cookie the language links set; else the browser's preference; else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    found = request.cookies.get(AUTO_LANG_COOKIE)
    return _browsers(request) or (found if found in LANGUAGES else DEFAULT)


def guessed(request: Request) -> bool:
    """Neither chosen, nor one of the browser's languages, nor found for her yet: English
    by default. Once she is signed in, the console asks for her own language instead
    (app.js): a phone set to Haitian Creole at a facility that writes French gets French."""
    return (
        request.cookies.get(LANG_COOKIE) not in LANGUAGES
        and request.cookies.get(AUTO_LANG_COOKIE) not in LANGUAGES
        and _browsers(request) is None
    )


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
