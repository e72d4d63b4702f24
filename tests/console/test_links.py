"""The links the service sends people open the console, in a real browser: a coordinator
invites a volunteer from the People page, the emailed link opens the console where she names
herself, sets a password and lands in her inbox; she forgets it, asks for a link on the reset
page and sets a new one from the email; an offer's link and a follow-up's link open the page
that shows them. The server runs in this process, mailing to a local SMTP sink."""

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from app.core.clock import clock as programme_clock
from app.core.config import get_settings
from app.core.principal import Role
from tests.console.support import (
    ADMIN,
    PASSWORD,
    browser,
    need_chromium,
    ready,
    seed,
    signed_in,
    submit_case,
    token,
)
from tests.notifications.support import SmtpSink, send_all, text_of
from tests.realtime.support import inprocess_server

PUBLIC = "https://consult.example.org"
VOLUNTEER = "new.volunteer@console.example.org"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{sink.port}?starttls=off")
    monkeypatch.setattr(get_settings(), "public_url", PUBLIC)
    yield sink
    sink.controller.stop()


async def _mailed_path(smtp: SmtpSink, to: str, before: int) -> str:
    """The path of the link in the email to `to` that followed the `before` already there
    (sent as the worker would)."""
    await send_all()
    mails = smtp.to(to)
    assert len(mails) == before + 1, f"{len(mails) - before} new emails to {to}"
    found = re.search(re.escape(PUBLIC) + r"(/\S+)", text_of(mails[-1]))
    assert found, text_of(mails[-1])
    return found.group(1)


async def test_emailed_links_open_the_console(app, factory, smtp):
    need_chromium()
    await factory.make_user(Role.admin, email=ADMIN, password=PASSWORD)
    async with inprocess_server(app) as host, browser() as b:
        base = f"http://{host}"
        prog = await seed(base)
        errors: list[str] = []

        async def page_of(ctx, who: str):
            page = await ctx.new_page()
            page.on("pageerror", lambda e: errors.append(f"{who}: {e}"))
            return page

        # The coordinator invites a volunteer dermatologist from the People page.
        coord = await page_of(await b.new_context(), "coordinator")
        await signed_in(coord, base, prog.email("coordinator"), "queue")
        await coord.click("#nav a[href='/admin/users']")
        await ready(coord, "users")
        await coord.fill("#inv-email", VOLUNTEER)
        await coord.select_option("#inv-role", "specialist")
        await coord.click("#invite-form button[type=submit]")
        await coord.wait_for_selector(f"#invite-state:has-text('{VOLUNTEER}')")

        # The emailed link opens the console: a name and a password make her account.
        path = await _mailed_path(smtp, VOLUNTEER, 0)
        assert path.startswith("/invitations/")
        vol = await page_of(await b.new_context(), "volunteer")
        await vol.goto(base + path)
        await ready(vol, "invite")
        await vol.fill("#inv-name", "Dr Amara Obi")
        await vol.fill("#inv-password", "first-password-1")
        await vol.click("#accept-form button[type=submit]")
        await ready(vol, "inbox")
        assert "Dr Amara Obi" in await vol.inner_text("#who-name")

        # She forgets it: the reset page mails a link, the link sets a new one.
        forgot = await page_of(await b.new_context(), "volunteer, later")
        await forgot.goto(f"{base}/reset")
        await ready(forgot, "reset")
        await forgot.fill("#reset-email", VOLUNTEER)
        await forgot.click("#reset-request button[type=submit]")
        await forgot.wait_for_selector("#form-done:not([hidden])")
        path = await _mailed_path(smtp, VOLUNTEER, 1)
        assert path.startswith("/password-reset/")
        await forgot.goto(base + path)
        await ready(forgot, "reset")
        await forgot.fill("#reset-password", "second-password-2")
        await forgot.click("#reset-set button[type=submit]")
        await forgot.wait_for_selector("#form-done:not([hidden])")
        async with httpx.AsyncClient(base_url=base) as c:
            form = {"grant_type": "password", "username": VOLUNTEER}
            old = await c.post("/api/v1/auth/token", data={**form, "password": "first-password-1"})
            new = await c.post("/api/v1/auth/token", data={**form, "password": "second-password-2"})
        assert (old.status_code, new.status_code) == (400, 200)

        # An offer's link opens the specialist's inbox with the offer; a follow-up's link
        # opens its case.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = {
                who: {"Authorization": f"Bearer {await token(c, prog.email(who))}"}
                for who in ("clinician", "coordinator")
            }
            case_id = await submit_case(
                c,
                h["clinician"],
                "Pruritic papules on the wrists: scabies?",
                summary="Two weeks; the family itches too.",
                patient={"reference": "HSR-4410", "age_years": 8, "sex": "female"},
            )
            r = await c.post(
                f"/api/v1/cases/{case_id}/offers",
                headers=h["coordinator"],
                json={"specialist_ids": [prog.people["specialist"]["id"]]},
            )
            r.raise_for_status()
            offer_id = r.json()["items"][0]["id"]
            r = await c.post(
                f"/api/v1/cases/{case_id}/follow-ups",
                headers=h["clinician"],
                json={
                    "due_at": (programme_clock.now() + timedelta(days=14)).isoformat(),
                    "description": "Treat the household the same day; check in 2 weeks.",
                    "assignee_id": prog.people["clinician"]["id"],
                },
            )
            r.raise_for_status()
            follow_up_id = r.json()["id"]
        spec = await page_of(await b.new_context(), "specialist")
        await signed_in(spec, base, prog.email("specialist"))
        await spec.goto(f"{base}/offers/{offer_id}")
        await ready(spec, "inbox")
        await spec.wait_for_selector(f"#offer-list [data-offer-id='{offer_id}']")
        clin = await page_of(await b.new_context(), "clinician")
        await signed_in(clin, base, prog.email("clinician"))
        await clin.goto(f"{base}/follow-ups/{follow_up_id}")
        await ready(clin, "case")
        # At the follow-up itself, marked and in view (the case page is long on a phone).
        assert clin.url == f"{base}/cases/{case_id}#followup-{follow_up_id}"
        chosen = clin.locator(f"#followup-{follow_up_id}.chosen")
        await chosen.wait_for()
        assert "Treat the household the same day" in await chosen.inner_text()
        assert await chosen.evaluate(
            "(el) => { const r = el.getBoundingClientRect();"
            " return r.top < innerHeight && r.bottom > 0; }"
        )

        assert errors == []
