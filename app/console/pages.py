"""The console's routes at the root of the site: its pages, its session endpoints and its
static files. Found by name (app/core/registry.py, `pages`) and mounted outside /api/v1."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from app.console import assets, i18n, session
from app.console.render import render_page
from app.core.deps import SessionDep
from app.core.i18n import LANGUAGES
from app.core.routing import AppRoute, make_router


class PageRoute(AppRoute):
    # A page's address carries what its script reads (`?next=`, `?mine=`, `?organization=`):
    # the page is served whatever else it holds.
    refuses_unknown_query = False


pages = make_router(prefix="", route_class=PageRoute, include_in_schema=False)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


@pages.post("/session")
async def sign_in(request: Request, db: SessionDep, body: SignIn) -> Response:
    tokens = await session.sign_in(db, request, body.email, body.password)
    response = JSONResponse(session.access_part(tokens), headers={"Cache-Control": "no-store"})
    session.set_session(response, tokens)
    return response


@pages.post("/session/refresh")
async def refresh(request: Request, db: SessionDep) -> Response:
    tokens = await session.refresh(db, request)
    response = JSONResponse(session.access_part(tokens), headers={"Cache-Control": "no-store"})
    session.set_session(response, tokens)
    return response


@pages.post("/session/end", status_code=204)
async def sign_out(request: Request, db: SessionDep) -> Response:
    await session.sign_out(db, request)
    response = Response(status_code=204)
    session.clear_session(response)
    return response


def _local(path: str | None) -> str:
    """A path on this site only: `next` must not send anyone elsewhere."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return "/"
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pages.get("/lang/{code}")
async def choose_language(
    code: str,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    found: Annotated[bool, Query(description="Found for her, not chosen (app.js)")] = False,
) -> Response:
    response = RedirectResponse(_local(next_), status_code=303)
    if code in LANGUAGES and found:
        response.set_cookie(i18n.AUTO_LANG_COOKIE, code, path="/", samesite="lax", httponly=True)
    elif code in LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE, code, max_age=365 * 86400, path="/", samesite="lax", httponly=True
        )
    return response


@pages.get("/static/{ver}/{path:path}")
async def static(request: Request, ver: str, path: str) -> Response:
    return assets.serve(request, ver, path)


@pages.get("/i18n/{ver}/{lang}.json")
async def messages(request: Request, ver: str, lang: str) -> Response:
    return assets.serve_catalogue(request, ver, lang)


# Page name, path, and whether it needs a signed-in user (the data is the API's: pages
# without sign-in are the ones used to get one).
PAGES: list[tuple[str, str, bool]] = [
    ("home", "/", True),
    ("signin", "/signin", False),
    ("profile", "/profile", True),
    ("preferences", "/preferences", True),
    ("invite", "/invite/{token}", False),
    ("reset", "/reset", False),
    ("reset", "/reset/{token}", False),
    ("cases", "/cases", True),
    ("case_new", "/cases/new", True),
    ("case", "/cases/{case_id}", True),
    ("note", "/notes/{note_id}", True),
    ("facility", "/facility", True),
    ("inbox", "/inbox", True),
    ("availability", "/availability", True),
    ("queue", "/queue", True),
    ("specialists", "/specialists", True),
    ("rounds", "/rounds", True),
    ("round", "/rounds/{round_id}", True),
    ("followups", "/follow-ups", True),
    ("quality", "/quality", True),
    ("facilities", "/admin/facilities", True),
    ("users", "/admin/users", True),
    ("clients", "/admin/clients", True),
    ("webhooks", "/admin/webhooks", True),
    ("audit", "/admin/audit", True),
    # The links the service's emails and messages carry (app/notifications): each opens the
    # console page that does what the message asks.
    ("invite", "/invitations/{token}", False),
    ("reset", "/password-reset/{token}", False),
    ("inbox", "/offers/{offer_id}", True),
    ("followup", "/follow-ups/{follow_up_id}", True),
]


def _page_route(name: str, needs_user: bool) -> Any:
    async def page(request: Request) -> Response:
        params = {k: str(v) for k, v in request.path_params.items()}
        return render_page(request, name, params, needs_user)

    page.__name__ = f"page_{name}"
    return page


for _name, _path, _auth in PAGES:
    pages.add_api_route(_path, _page_route(_name, _auth), methods=["GET"], name=f"console.{_name}")
