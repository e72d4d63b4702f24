"""What the console's browser tests share: Debian's chromium driven by Playwright, a real
server (`uvicorn app.main:app` in a subprocess, its worker on, on the suite's database), a
programme seeded through the API, a TCP proxy whose link can be cut, and axe-core."""

import asyncio
import contextlib
import os
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.support import ServerProcess, free_port, inprocess_server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The video call: a fake camera and microphone, no permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PASSWORD = "console-password-1"
ADMIN = "admin@console.example.org"
ROOT = Path(__file__).resolve().parents[2]


def need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)")


# This process's chromium: started by the first browser test (~0.75 s with Playwright's
# driver), closed at the session's end (tests/console/conftest.py).
_chromium: dict[str, Any] = {}


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    """Chromium for one test; what the test opens in it (its contexts, so its cookies,
    storage and pages) is closed when it ends."""
    need_chromium()
    b = _chromium.get("browser")
    if b is None or not b.is_connected():
        from playwright.async_api import async_playwright

        if "playwright" not in _chromium:
            _chromium["playwright"] = await async_playwright().start()
        b = _chromium["browser"] = await _chromium["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=ARGS
        )
    before = set(b.contexts)
    try:
        yield b
    finally:
        for ctx in b.contexts:
            if ctx not in before:
                await ctx.close()


async def close_browser() -> None:
    if (b := _chromium.pop("browser", None)) is not None:
        await b.close()
    if (p := _chromium.pop("playwright", None)) is not None:
        await p.stop()


@contextlib.asynccontextmanager
async def console_server(database_url: str) -> AsyncIterator[ServerProcess]:
    """The app as it is deployed, with its background worker (auto-offers) running."""
    async with ServerProcess(
        database_url,
        RUN_WORKER="true",
        WORKER_INTERVAL_SECONDS="0.3",
        BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
        ICE_SERVERS="[]",
    ) as server:
        yield server


@dataclass
class Programme:
    base: str
    org: dict[str, Any]
    people: dict[str, dict[str, Any]] = field(default_factory=dict)

    def email(self, who: str) -> str:
        return ADMIN if who == "admin" else self.people[who]["email"]


async def token(c: httpx.AsyncClient, email: str) -> str:
    r = await c.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


async def add_person(c: httpx.AsyncClient, who: str, name: str, role: str, **more: Any) -> Any:
    """Someone more in the programme, registered by the admin as `who`@console.example.org
    with the programme's password; `more` as POST /users takes it (organization_id)."""
    admin = {"Authorization": f"Bearer {await token(c, ADMIN)}"}
    body = {"email": f"{who}@console.example.org", "name": name, "role": role, **more}
    r = await c.post("/api/v1/users", headers=admin, json={**body, "password": PASSWORD})
    r.raise_for_status()
    return r.json()


async def bearers(c: httpx.AsyncClient, prog: Programme, *who: str) -> dict[str, dict[str, str]]:
    """Each named person's Authorization header."""
    return {w: {"Authorization": f"Bearer {await token(c, prog.email(w))}"} for w in who}


async def submit_case(
    c: httpx.AsyncClient,
    headers: dict[str, str],
    question: str,
    *,
    summary: str = "",
    patient: dict[str, Any] | None = None,
) -> str:
    """A dermatology case in Spanish, consent given, as the clinician whose headers these are."""
    r = await c.post(
        "/api/v1/cases",
        headers=headers,
        json={
            "specialty": "dermatology",
            "urgency": "routine",
            "question": question,
            "summary": summary,
            "patient": patient or {"reference": "HSR-2291", "age_years": 41, "sex": "male"},
            "languages": ["es"],
            "interpreter_needed": False,
            "consent": {"obtained": True, "method": "verbal"},
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def pending_offer(
    c: httpx.AsyncClient, h: dict[str, dict[str, str]], case: str, specialist_id: str
) -> str:
    """The specialist's pending offer of the case, made by the coordinator in `h`."""
    r = await c.post(
        f"/api/v1/cases/{case}/offers",
        headers=h["coordinator"],
        json={"specialist_ids": [specialist_id]},
    )
    # 422: the server's own worker offered her the case first (auto-offer), and a
    # specialist holds one open offer of a case. That offer is the one she holds.
    assert r.status_code in (201, 422), r.text
    r = await c.get(
        "/api/v1/offers", params={"case_id": case, "status": "pending"}, headers=h["specialist"]
    )
    r.raise_for_status()
    assert r.json()["items"], r.text
    return str(r.json()["items"][0]["id"])


async def assigned_case(
    c: httpx.AsyncClient, h: dict[str, dict[str, str]], prog: Programme, question: str
) -> str:
    """A case the clinician in `h` submits, the coordinator offers to the programme's
    specialist, and she accepts: the case as it stands once someone is helping."""
    case_id = await submit_case(c, h["clinician"], question)
    offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
    r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
    r.raise_for_status()
    return case_id


async def plan_follow_up(
    c: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    assignee_id: str,
    description: str,
    days: int = 2,
) -> Any:
    """A follow-up of the case, due in `days`, planned as the person whose headers these are."""
    from app.core.clock import utcnow

    r = await c.post(
        f"/api/v1/cases/{case_id}/follow-ups",
        headers=headers,
        json={
            "due_at": (utcnow() + timedelta(days=days)).isoformat(),
            "description": description,
            "assignee_id": assignee_id,
        },
    )
    r.raise_for_status()
    return r.json()


PHONE = {"width": 360, "height": 740}


async def case_page(b: Any, base: str, email: str, case_id: str, **options: Any) -> Any:
    """A browser context (a phone's screen unless `options`, for `new_context`, say
    otherwise) where `email` is signed in, and the case's page in it, drawn: (context, page)."""
    ctx = await b.new_context(**{"viewport": PHONE, **options})
    page = await ctx.new_page()
    await signed_in(page, base, email)
    await page.goto(f"{base}/cases/{case_id}")
    await ready(page, "case")
    return ctx, page


async def left_unsent(b: Any, base: str, email: str, case_id: str, body: str) -> Any:
    """A phone's browser context in which `email` wrote `body` in the case's room while the
    link was down, then left the page: the message waits on the device, unsent. The
    context is back online, with no page open."""
    ctx, page = await case_page(b, base, email, case_id)
    await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
    await ctx.set_offline(True)
    await page.fill("#message-body", body)
    await page.press("#message-body", "Enter")
    await page.wait_for_selector("#messages li.pending")
    await page.close()  # she leaves it, the message unsent on the phone
    await ctx.set_offline(False)
    return ctx


async def sign_note(c: httpx.AsyncClient, headers: dict[str, str], note_id: str) -> None:
    """Sign the note as it stands (its ETag read first), as the specialist in `headers`."""
    tag = (await c.get(f"/api/v1/notes/{note_id}", headers=headers)).headers["ETag"]
    r = await c.post(f"/api/v1/notes/{note_id}/sign", headers={**headers, "If-Match": tag}, json={})
    r.raise_for_status()


async def answered_case(factory: Any, prog: Programme, **more: Any) -> Any:
    """A case of the programme's facility that its clinician submitted and its specialist
    answered just now (`more` sets anything else, or overrides these)."""
    from app.core.clock import utcnow

    values = {
        "status": "answered",
        "answered_at": utcnow(),
        "submitted_by_id": prog.people["clinician"]["id"],
        "assigned_specialist_id": prog.people["specialist"]["id"],
    }
    return await factory.make_case(prog.org["id"], **{**values, **more})


WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


async def make_round(
    c: httpx.AsyncClient,
    auth: dict[str, str],
    org: str,
    title: str,
    day: date,
    rule: str | None = None,
    time: str = "09:00",
) -> dict[str, Any]:
    """A dermatology round of an hour hosted by `org`, first on `day` at `time` (host wall
    time), repeating by `rule` (weekly on that weekday unless told)."""
    r = await c.post(
        "/api/v1/rounds",
        headers=auth,
        json={
            "title": title,
            "host_organization_id": org,
            "starts_at_local": f"{day.isoformat()}T{time}",
            "duration_minutes": 60,
            "rrule": rule or f"FREQ=WEEKLY;BYDAY={WEEKDAYS[day.weekday()]}",
            "specialty": "dermatology",
        },
    )
    r.raise_for_status()
    return dict(r.json())


async def occurrences(
    c: httpx.AsyncClient, auth: dict[str, str], rid: str, **params: Any
) -> list[dict[str, Any]]:
    """A round's occurrences as the API lists them (`params`: `limit`, `include_cancelled`)."""
    r = await c.get(f"/api/v1/rounds/{rid}/occurrences", headers=auth, params=params)
    r.raise_for_status()
    return list(r.json()["items"])


async def seed(base: str) -> Programme:
    """A facility, its clinician, a verified dermatologist available all week, a coordinator."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        admin = {"Authorization": f"Bearer {await token(c, ADMIN)}"}
        r = await c.post(
            "/api/v1/organizations",
            headers=admin,
            json={
                "name": "Hospital San Roque",
                "country": "AR",
                "timezone": "America/Argentina/Salta",
                "languages": ["es"],
                "local_resources": {"text": "X-ray, basic labs", "tags": ["x-ray"]},
            },
        )
        r.raise_for_status()
        prog = Programme(base, r.json())
        for who, role, name in [
            ("clinician", "clinician", "Dr Lucía Mamani"),
            ("specialist", "specialist", "Dr Ana Ruiz"),
            ("coordinator", "coordinator", "Sam Okafor"),
        ]:
            body = {
                "email": f"{who}@console.example.org",
                "name": name,
                "role": role,
                "password": PASSWORD,
            }
            if role == "clinician":
                body["organization_id"] = prog.org["id"]
            r = await c.post("/api/v1/users", headers=admin, json=body)
            r.raise_for_status()
            prog.people[who] = r.json()
        coord = {"Authorization": f"Bearer {await token(c, prog.email('coordinator'))}"}
        r = await c.put(
            f"/api/v1/specialists/{prog.people['specialist']['id']}/profile",
            headers=coord,
            json={
                "specialties": ["dermatology"],
                "languages": ["es", "en"],
                "timezone": "UTC",
                "availability": [
                    {"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)
                ],
                "time_off": [],
                "max_active_cases": 5,
                "accepting": True,
                "verified": True,
            },
        )
        r.raise_for_status()
    return prog


@contextlib.asynccontextmanager
async def seeded_console(app: Any, factory: Any) -> AsyncIterator[tuple[str, Any, Programme]]:
    """The test's own app served on a port (no worker: nothing is offered but what the
    test offers), Chromium, and the seeded programme: (base URL, browser, programme)."""
    from app.core.principal import Role

    need_chromium()
    await factory.make_user(Role.admin, email=ADMIN, password=PASSWORD)
    async with inprocess_server(app) as host, browser() as b:
        base = f"http://{host}"
        yield base, b, await seed(base)


async def london_page(b: Any, at: datetime | None = None, **options: Any) -> tuple[Any, Any]:
    """A browser context in British English in London (a round's times are said in her
    zone), its clock pinned to the tests' own (or `at`), and a page in it."""
    from app.core.clock import utcnow

    ctx = await b.new_context(locale="en-GB", timezone_id="Europe/London", **options)
    await ctx.clock.set_fixed_time(at or utcnow())
    return ctx, await ctx.new_page()


LOCALES = {"es": "es-AR", "fr": "fr-FR", "en": "en-GB"}


async def clinician_case_page(
    b: Any,
    base: str,
    prog: Programme,
    case_id: str,
    *,
    lang: str,
    who: str = "clinician",
    phone: bool = False,
) -> tuple[Any, Any]:
    """A browser context whose console speaks `lang` (es, fr, en; the browser's locale that
    language's), its clock pinned to the tests' own, `who` (the clinician unless told)
    signed in there and the case's page open and ready; `phone`: a 360 px screen.
    (context, page)."""
    from app.core.clock import utcnow

    screen = {"viewport": {"width": 360, "height": 740}} if phone else {}
    ctx = await b.new_context(locale=LOCALES[lang], **screen)
    await ctx.clock.set_fixed_time(utcnow())
    page = await ctx.new_page()
    await signed_in(page, base, prog.email(who), lang=lang)
    await page.goto(f"{base}/cases/{case_id}")
    await ready(page, "case")
    return ctx, page


async def status_says(page: Any, *words: str) -> str:
    """The status line once it says all of `words`."""
    await page.wait_for_function(
        "(ws) => ws.every((w) => document.getElementById('status').textContent.includes(w))",
        arg=list(words),
    )
    return str(await page.inner_text("#status"))


async def sign_in(
    page: Any, base: str, email: str, lands_on: str | None, next_: str | None = None
) -> None:
    """Signed in from /signin (with `?next=` when given); `lands_on`: the page she then
    finds ready (None: only that she left the sign-in page)."""
    await page.goto(f"{base}/signin" + (f"?next={next_}" if next_ is not None else ""))
    await page.wait_for_selector("body[data-ready=signin]")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_url(lambda u: "/signin" not in u, timeout=15000)
    if lands_on is not None:
        await ready(page, lands_on)


HOMES = {"cases": "/cases", "inbox": "/inbox", "queue": "/queue", "users": "/admin/users"}


async def signed_in(
    page: Any, base: str, email: str, lands_on: str | None = None, *, lang: str | None = None
) -> None:
    """Signed in as the sign-in form does it (POST /session from this origin; the page's
    context keeps the cookies it sets), without loading the form or her first page: a test
    about another page opens that page next. `lands_on`: her first page (a HOMES name),
    opened and ready; `lang`: the console's language chosen first, as its language links
    do. The form itself is tested through `sign_in`."""
    if lang is not None:
        await page.context.request.get(f"{base}/lang/{lang}", max_redirects=0)
    r = await page.context.request.post(
        f"{base}/session", data={"email": email, "password": PASSWORD}, headers={"Origin": base}
    )
    assert r.ok, await r.text()
    if lands_on is not None:
        await page.goto(base + HOMES[lands_on])
        await ready(page, lands_on)


async def in_the_room(b: Any, base: str, email: str, case_id: str, *, clock: bool = False) -> Any:
    """A phone of her own (360 px), signed in, on the case's page with its room's link open;
    `clock`: the page's timers run on a clock the test moves."""
    ctx = await b.new_context(viewport={"width": 360, "height": 740})
    if clock:
        await ctx.clock.install()
    page = await ctx.new_page()
    await signed_in(page, base, email)
    await page.goto(f"{base}/cases/{case_id}")
    await ready(page, "case")
    await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
    return page


async def ready(page: Any, name: str, within_ms: float = 15000) -> None:
    """The page's module has run (app.js sets body[data-ready] to the page's name)."""
    await page.wait_for_selector(f"body[data-ready={name}]", timeout=within_ms)


async def settled(page: Any) -> None:
    """What the last action made the page reload is shown (core.js `busy()` marks #main
    aria-busy meanwhile: the round, case and inbox pages): acting earlier would act on a
    list about to be replaced."""
    await page.wait_for_selector("#main:not([aria-busy])", state="attached")


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings (the vendored copy, same origin: the CSP
    admits it as it admits the console's own scripts)."""
    from app.console import assets

    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(url=assets.url("vendor/axe.min.js"))
    result = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class LinkProxy:
    """A TCP proxy in front of the server: one person's link. `cut()` drops every open
    connection and refuses new ones (a clinic's link gone), `restore()` brings it back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            w.close()
            return
        self.pipes |= {w, uw}
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))
        self.pipes -= {w, uw}

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in list(self.pipes):
            with contextlib.suppress(Exception):
                w.transport.abort()  # a reset, as when the radio link dies
        self.pipes.clear()

    async def __aenter__(self) -> "LinkProxy":
        await self.restore()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cut()


def png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a skin-coloured square), as a phone's camera would hand over."""
    row = b"\x00" + bytes([224, 172, 150]) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def screenshot_dir(tmp_root: Path) -> Path:
    """Where the screenshots go: CONSOLE_SCREENSHOTS (docs/screenshots to refresh the ones
    the README shows), else a temporary folder of this run."""
    chosen = os.environ.get("CONSOLE_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_root
    if not path.is_absolute():
        path = ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path
