"""The console's session: the refresh token lives in an HttpOnly cookie the page script
cannot read; the page holds only a short access token, in memory, and asks for a new one
here (POST /session/refresh) when it loads or when its token runs out.

Cookie-authenticated writes (refresh, sign-out) are the only requests a forged page could
ride, so each must carry the CSRF token: a second, script-readable cookie whose value is an
HMAC of the refresh token (signed double submit, bound to the session), echoed in the
`X-CSRF-Token` header, and come from this origin (Origin / Sec-Fetch-Site).
"""

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth
from app.auth import sessions
from app.auth.oauth import InvalidGrant
from app.console.i18n import AUTO_LANG_COOKIE
from app.core.config import get_settings
from app.core.errors import AppError, Forbidden

REFRESH_COOKIE = "console_refresh"
CSRF_COOKIE = "console_csrf"
CSRF_HEADER = "x-csrf-token"
# The refresh cookie goes only to the session endpoints, never with page or API requests.
REFRESH_PATH = "/session"


class NotSignedIn(AppError):
    """No console session (no refresh cookie, or it has ended)."""

    status, code, title = 401, "not-signed-in", "Not signed in"


class CsrfRefused(Forbidden):
    """A cookie-authenticated write without a valid CSRF token or from another origin."""

    code, title = "csrf", "Cross-site request refused"


def csrf_token(refresh_token: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"console-csrf:" + refresh_token.encode(), hashlib.sha256).hexdigest()


def same_origin(request: Request) -> bool:
    """Browsers send Origin on every POST and Sec-Fetch-Site on every request; a request
    another site made carries a foreign value in one of them."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return site is not None
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def check_csrf(request: Request) -> str:
    """The refresh token of a request that passed the CSRF checks."""
    if not same_origin(request):
        raise CsrfRefused("The request did not come from the console's own pages.")
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        raise NotSignedIn("Sign in first.")
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(refresh).encode()):
        raise CsrfRefused("The CSRF token is missing or does not match the session.")
    return refresh


def set_session(response: Response, tokens: dict[str, Any]) -> None:
    s = get_settings()
    refresh = str(tokens["refresh_token"])
    max_age = s.refresh_token_days * 86400
    response.set_cookie(
        REFRESH_COOKIE,
        refresh,
        max_age=max_age,
        path=REFRESH_PATH,
        secure=s.console_secure_cookies,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token(refresh),
        max_age=max_age,
        path="/",
        secure=s.console_secure_cookies,
        httponly=False,  # the page reads it to echo it in X-CSRF-Token
        samesite="strict",
    )


def clear_session(response: Response) -> None:
    s = get_settings()
    # The language found for her goes too: the next person on this phone is asked again.
    gone = ((REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/"), (AUTO_LANG_COOKIE, "/"))
    for name, path in gone:
        response.delete_cookie(
            name, path=path, secure=s.console_secure_cookies, httponly=name != CSRF_COOKIE
        )


def access_part(tokens: dict[str, Any]) -> dict[str, Any]:
    """What the page may hold: the access token, never the refresh token."""
    return {k: tokens[k] for k in ("access_token", "token_type", "expires_in")}


async def sign_in(
    session: AsyncSession, request: Request, email: str, password: str
) -> dict[str, Any]:
    if not same_origin(request):
        raise CsrfRefused("Sign in from the console's own page.")
    ip = request.client.host if request.client else None
    return await auth.password_grant(session, email, password, ip)


async def refresh(session: AsyncSession, request: Request) -> dict[str, Any]:
    token = check_csrf(request)
    try:
        return await auth.refresh_grant(session, token)
    except InvalidGrant as e:
        raise NotSignedIn(e.detail) from e


async def sign_out(session: AsyncSession, request: Request) -> None:
    token = check_csrf(request)
    await sessions.revoke(session, token)
