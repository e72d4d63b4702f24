"""Rendering a console page: the template, the language, the security headers."""

import gzip
import json
from functools import lru_cache
from pathlib import Path

from fastapi import Request, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.cases.schemas import MAX_CASE_LANGUAGES
from app.console import assets, i18n
from app.core.config import get_settings
from app.core.i18n import LANGUAGES, translate
from app.core.places import country_codes, zone_names
from app.core.principal import Role
from app.core.schemas import LANGUAGE_TAG_MAX_LENGTH, LANGUAGE_TAG_PATTERN
from app.notes.models import NEEDED_TO_SIGN
from app.notes.schemas import NOTE_TEXT_LIMITS

TEMPLATES = Path(__file__).resolve().parent / "templates"

# No inline script or style anywhere: everything the page runs or wears comes from this
# origin's /static. Images and video may also be blobs (attachments fetched with the
# bearer token, the camera's own stream). Sockets are same-origin ('self' covers ws:).
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Cache-Control": "no-cache",
    "Vary": "Accept-Encoding, Accept-Language, Cookie",
}

_ALL = frozenset(Role)
_CARE = frozenset({Role.clinician, Role.specialist, Role.coordinator, Role.admin})
_STAFF = frozenset({Role.coordinator, Role.admin})
# The navigation: every link is in the page, shown by the script for the user's role (the
# API decides what each page may show; this only spares people links they cannot use).
NAV: list[tuple[str, str, frozenset[Role]]] = [
    ("/inbox", "nav.inbox", frozenset({Role.specialist})),
    ("/queue", "nav.queue", _STAFF),
    ("/cases", "nav.cases", _ALL),
    ("/cases/new", "nav.new_case", frozenset({Role.clinician})),
    ("/facility", "nav.facility", frozenset({Role.clinician})),
    # What was planned after the answer, across her cases: care goes on after the consult.
    (
        "/follow-ups",
        "nav.followups",
        frozenset({Role.clinician, Role.specialist, Role.coordinator}),
    ),
    ("/availability", "nav.availability", frozenset({Role.specialist})),
    ("/specialists", "nav.specialists", _STAFF),
    # Interpreters too: they are booked into rounds (the API shows them theirs).
    ("/rounds", "nav.rounds", _CARE | {Role.interpreter}),
    ("/quality", "nav.quality", _STAFF),
    ("/admin/facilities", "nav.facilities", _STAFF),
    ("/admin/users", "nav.users", _STAFF),
    ("/admin/clients", "nav.clients", frozenset({Role.admin})),
    ("/admin/webhooks", "nav.webhooks", frozenset({Role.admin})),
    ("/admin/audit", "nav.audit", frozenset({Role.admin})),
    ("/profile", "nav.profile", _ALL),
]
# Who each page is for: its navigation link's roles (a page for other roles would only show
# forms the API then refuses); pages not named here are for everyone signed in.
_PAGE_AT = {
    "/inbox": "inbox",
    "/queue": "queue",
    "/cases/new": "case_new",
    "/facility": "facility",
    "/follow-ups": "followups",
    "/availability": "availability",
    "/specialists": "specialists",
    "/rounds": "rounds",
    "/quality": "quality",
    "/admin/facilities": "facilities",
    "/admin/users": "users",
    "/admin/clients": "clients",
    "/admin/webhooks": "webhooks",
    "/admin/audit": "audit",
}
PAGE_ROLES = {_PAGE_AT[href]: roles for href, _, roles in NAV if href in _PAGE_AT}
PAGE_ROLES["round"] = PAGE_ROLES["rounds"]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = assets.url
    # What a country or time-zone field offers (app/core/places.py), named by the browser.
    env.globals["country_codes"] = " ".join(sorted(country_codes()))
    env.globals["zone_names"] = zone_names()
    # The largest file a case takes: a photo over it is refused before a slow upload.
    env.globals["max_attachment_bytes"] = get_settings().max_attachment_bytes
    # A case's languages, checked in the form by the service's own rule before a send.
    env.globals["language_tag_pattern"] = LANGUAGE_TAG_PATTERN
    env.globals["language_tag_max_length"] = LANGUAGE_TAG_MAX_LENGTH
    env.globals["max_case_languages"] = MAX_CASE_LANGUAGES
    # What a note must say to be signed: the note page says so before asking to sign.
    env.globals["needed_to_sign"] = json.dumps(NEEDED_TO_SIGN)
    env.globals["note_text_limits"] = NOTE_TEXT_LIMITS
    return env


def render_page(request: Request, name: str, params: dict[str, str], needs_user: bool) -> Response:
    lang = i18n.pick(request)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    html = (
        environment()
        .get_template(f"{name}.html")
        .render(
            page=name,
            lang=lang,
            lang_guessed=i18n.guessed(request),
            languages=LANGUAGES,
            t=t,
            nav=[(href, key, " ".join(sorted(r.value for r in roles))) for href, key, roles in NAV],
            needs_user=needs_user,
            roles=" ".join(sorted(r.value for r in PAGE_ROLES.get(name, ()))),
            params=json.dumps(params),
            messages=assets.catalogue_url(lang),
            path=request.url.path,
        )
    )
    body = html.encode()
    headers = {**SECURITY_HEADERS, "Content-Language": lang}
    if assets.gzip_accepted(request) and len(body) > 1024:
        body = gzip.compress(body, 6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
