"""Every console page, for the roles that use it, in a real browser: axe-core finds no
serious or critical violation, the page weighs under 150 kB on a cold load (compressed, as
transferred), nothing on it breaks, and a screenshot is written at 360 and at 1280 px."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.console.support import (
    axe_violations,
    bearers,
    browser,
    console_server,
    need_chromium,
    pending_offer,
    png,
    ready,
    screenshot_dir,
    seed,
    sign_in,
    signed_in,
    submit_case,
)
from tests.timing import T0

BUDGET = 150 * 1024

# Who sees which page (the page's name is the module the page runs).
PAGES: dict[str, list[tuple[str, str]]] = {
    "clinician": [
        ("/cases", "cases"),
        ("/cases/new", "case_new"),
        ("/cases/{case}", "case"),
        ("/facility", "facility"),
        ("/follow-ups", "followups"),
        ("/profile", "profile"),
        ("/preferences", "preferences"),
        ("/rounds", "rounds"),
        ("/rounds/{round}", "round"),
    ],
    "specialist": [
        ("/inbox", "inbox"),
        ("/cases/{case}", "case"),
        ("/notes/{note}", "note"),
        ("/availability", "availability"),
        ("/rounds", "rounds"),
        ("/rounds/{round}", "round"),
    ],
    "coordinator": [
        ("/queue", "queue"),
        ("/cases/{open_case}", "case"),
        ("/specialists", "specialists"),
        ("/rounds", "rounds"),
        ("/rounds/{round}", "round"),
        ("/quality", "quality"),
        ("/admin/facilities", "facilities"),
        ("/admin/users", "users"),
    ],
    "admin": [
        ("/admin/clients", "clients"),
        ("/admin/webhooks", "webhooks"),
        ("/admin/audit", "audit"),
    ],
    "anonymous": [
        ("/signin", "signin"),
        ("/reset", "reset"),
        ("/reset/some-token", "reset"),
        ("/invite/some-token", "invite"),
    ],
}


async def _content(base: str, prog: Any) -> dict[str, str]:
    """A case with a message, a photo and a draft note; an open case; a round with its
    specialist and local team, and the open case on its first occurrence's agenda."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician", "specialist", "coordinator")

        async def new_case(question: str) -> str:
            return await submit_case(
                c, h["clinician"], question, summary="3 weeks, itchy, no fever."
            )

        case = await new_case("Annular scaly plaques on both forearms: tinea or psoriasis?")
        open_case = await new_case("Hyperpigmented patch on the cheek since pregnancy?")
        offer = await pending_offer(c, h, case, prog.people["specialist"]["id"])
        r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
        r.raise_for_status()
        await c.post(
            f"/api/v1/cases/{case}/attachments",
            headers=h["clinician"],
            files={"file": ("forearm.png", png(), "image/png")},
        )
        await c.post(
            f"/api/v1/cases/{case}/messages",
            headers=h["clinician"],
            json={"body": "Photo attached.", "client_msg_id": "m1"},
        )
        r = await c.post(
            f"/api/v1/cases/{case}/notes",
            headers=h["specialist"],
            json={"kind": "consult", "assessment": "Tinea corporis."},
        )
        r.raise_for_status()
        note = r.json()["id"]
        r = await c.post(
            "/api/v1/rounds",
            headers=h["coordinator"],
            json={
                "title": "Dermatology teaching round",
                "host_organization_id": prog.org["id"],
                # The server's clock starts at the test's (tests/timing.py): a round from
                # the next day on.
                "starts_at_local": (T0 + timedelta(days=1)).strftime("%Y-%m-%dT09:00"),
                "rrule": "FREQ=WEEKLY;BYDAY=TU",
                "specialty": "dermatology",
                "teaching_topic": "Melasma and its mimics",
                "join_url": "https://meet.example.org/dermatologia-san-roque",
            },
        )
        r.raise_for_status()
        rnd = r.json()
        for who, role in (("specialist", "specialist"), ("clinician", "local_team")):
            r = await c.post(
                f"/api/v1/rounds/{rnd['id']}/participants",
                headers=h["coordinator"],
                json={"user_id": prog.people[who]["id"], "role": role},
            )
            r.raise_for_status()
        r = await c.get(f"/api/v1/rounds/{rnd['id']}/occurrences?limit=1", headers=h["coordinator"])
        r.raise_for_status()
        first = r.json()["items"][0]["original_start"]
        r = await c.post(
            f"/api/v1/rounds/{rnd['id']}/occurrences/{first}/agenda",
            headers=h["coordinator"],
            json={"case_id": open_case, "presenter_id": prog.people["clinician"]["id"]},
        )
        r.raise_for_status()
        return {"case": case, "open_case": open_case, "note": note, "round": rnd["id"]}


async def _cold_bytes(page: Any, url: str) -> int:
    """Bytes a cold load transfers (cache off): every response's headers and body as they
    came over the wire, compressed where they were.

    The load is over when the page says so, not after a quiet spell: its module has run
    (body[data-ready]), the document and its images are complete, and every request the
    browser counts (the document, and each resource in its Resource Timing) has reached
    Playwright as finished or failed. Waiting for the network to be idle would cost half
    a second a page, twice over (Playwright's `networkidle`)."""
    started: set[Any] = set()
    finished: list[Any] = []
    ended: list[Any] = []
    news = asyncio.Event()

    def on_request(request: Any) -> None:
        started.add(request)

    def on_end(request: Any, ok: bool) -> None:
        started.discard(request)
        ended.append(request)
        if ok:
            finished.append(request)
        news.set()

    handlers = {
        "request": on_request,
        "requestfinished": lambda r: on_end(r, True),
        "requestfailed": lambda r: on_end(r, False),
    }
    for event, handler in handlers.items():
        page.on(event, handler)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    await page.goto(url)
    await page.wait_for_selector("body[data-ready]")
    # A function, not an expression: polling an expression evaluates a string in the page,
    # which its CSP (no 'unsafe-eval') refuses once the first check is not already true.
    counted = await page.wait_for_function(
        "() => document.readyState === 'complete' && [...document.images].every(i => i.complete)"
        " && 1 + performance.getEntriesByType('resource').length"
    )
    expected = await counted.json_value()

    async def all_reported() -> None:
        # Playwright's events may trail the page's own account of what it loaded.
        while started or len(ended) < expected:
            news.clear()
            await news.wait()

    await asyncio.wait_for(all_reported(), timeout=15)
    for event, handler in handlers.items():
        page.remove_listener(event, handler)
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    total = 0
    for request in finished:
        s = await request.sizes()
        total += s["responseBodySize"] + s["responseHeadersSize"]
    return total


# One test per role, so that the two workers share the walk (it took ~50 s as one test).
@pytest.mark.parametrize("who", list(PAGES))
async def test_every_page_is_accessible_light_and_pictured(app, database_url, tmp_path, who):
    need_chromium()
    shots = screenshot_dir(tmp_path / "screenshots")
    report: dict[str, list[Any]] = {"axe": [], "heavy": [], "errors": []}
    taken: set[str] = set()
    async with console_server(database_url) as server, browser() as b:
        base = f"http://{server.host}"
        prog = await seed(base)
        ids = await _content(base, prog)
        pages = PAGES[who]
        ctx = await b.new_context(viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        page.on("pageerror", lambda e: report["errors"].append(f"{who}: {e}"))
        if who != "anonymous":
            await signed_in(page, base, prog.email(who))
        for path, name in pages:
            url = base + path.format(**ids)
            weight = await _cold_bytes(page, url)
            await ready(page, name)
            print(f"{who:12} {path:22} {weight / 1024:6.1f} kB cold")
            if weight > BUDGET:
                report["heavy"].append((who, path, weight))
            found = await axe_violations(page)
            if found:
                report["axe"].append((who, path, found))
            # One element per id (the catalogue's link and the room's list were both
            # "messages"): a label, a script or a test would find the wrong one.
            twice = await page.evaluate(
                "[...document.querySelectorAll('[id]')].map(e => e.id)"
                ".filter((id, i, ids) => ids.indexOf(id) !== i)"
            )
            if twice:
                report["axe"].append((who, path, {"duplicate ids": twice}))
            # One picture per path: a second path to a page (the reset link) gets its own.
            slug = f"{who}-{name}" + ("_link" if f"{who}-{name}" in taken else "")
            taken.add(slug)
            await page.screenshot(path=str(shots / f"{slug}-1280.png"), full_page=True)
            # No wait after resizing: reading scrollWidth and taking the screenshot each
            # lay the page out at the new width first.
            await page.set_viewport_size({"width": 360, "height": 740})
            # Usable at 360 px: nothing wider than the screen but what scrolls on purpose.
            wide = await page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            if wide:
                culprits = await page.evaluate(
                    "[...document.querySelectorAll('main *')].filter(e => "
                    "e.getBoundingClientRect().right > window.innerWidth + 1 && "
                    "!e.closest('.scroll')).slice(0, 3)"
                    ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
                )
                if culprits:
                    report["heavy"].append((who, path, "wider than 360 px", culprits))
            await page.screenshot(path=str(shots / f"{slug}-360.png"), full_page=True)
            await page.set_viewport_size({"width": 1280, "height": 900})
        await ctx.close()
    assert report == {"axe": [], "heavy": [], "errors": []}


@pytest.mark.parametrize("lang", ["es", "fr"])
async def test_the_console_speaks_the_viewers_language(app, database_url, lang):
    need_chromium()
    async with console_server(database_url) as server, browser() as b:
        base = f"http://{server.host}"
        prog = await seed(base)
        ctx = await b.new_context(locale=lang, timezone_id="America/Argentina/Salta")
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        assert await page.get_attribute("html", "lang") == lang
        new_case = {"es": "Nuevo caso", "fr": "Nouveau dossier"}[lang]
        assert await page.inner_text("#nav a[href='/cases/new']") == new_case
        # The zone by its name and city in her language; its id kept as the title.
        said = await page.inner_text("#tz")
        assert said.startswith("Salta, ") and "America/" not in said, said
        assert await page.get_attribute("#tz", "title") == "America/Argentina/Salta"
        # The language links switch it for good (a cookie), and keep the page.
        await page.click(".langs a[hreflang=en]")
        await ready(page, "cases")
        assert await page.get_attribute("html", "lang") == "en"
        assert page.url.endswith("/cases")
        await ctx.close()
