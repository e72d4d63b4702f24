"""The delivery log in a real browser, in Spanish in Salta: what the last attempt met is said
in words (the raw record one click away, for whoever debugs), the next attempt is in her
time, and "Send again" shows the delivery queued at once, then the new attempt's answer when
the dispatcher has made it, without a reload. It used to show `ConnectError: [SSL:
CERTIFICATE_VERIFY_FAILED]...`, no next attempt, and a row that did not change."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import select

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.partners.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.console.support import (
    ADMIN,
    axe_violations,
    ready,
    seeded_console,
    signed_in,
    token,
)
from tests.partners.helpers import dispatch
from tests.partners.support import Receiver, Served

SALTA = ZoneInfo("America/Argentina/Salta")
SSL_ERROR = (
    "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "self-signed certificate (_ssl.c:1006)"
)


def clock_time(at, zone=SALTA) -> str:
    """Hours and minutes as a clock in `zone` shows them (7:05 or 07:05 both contain it)."""
    local = at.astimezone(zone)
    return f"{local.hour}:{local.minute:02d}"


async def test_the_log_says_what_happened_and_sending_again_shows_at_once(app, factory):
    async with (
        Served(Receiver()) as receiver,
        seeded_console(app, factory) as (base, b, prog),
        httpx.AsyncClient(base_url=base) as c,
        httpx.AsyncClient(follow_redirects=False) as http,
    ):
        admin = {"Authorization": f"Bearer {await token(c, ADMIN)}"}
        r = await c.post(
            "/api/v1/webhooks",
            headers=admin,
            json={"url": receiver.url, "events": ["case.closed"]},
        )
        r.raise_for_status()
        hook = r.json()
        # A delivery whose attempts met a certificate nobody trusts: probed again later.
        later = utcnow() + timedelta(hours=5, minutes=35)
        async with sessionmaker()() as s:
            d = WebhookDelivery(
                endpoint_id=hook["id"],
                event_id=1,
                event_type="case.closed",
                status=DeliveryStatus.pending,
                attempts=3,
                next_attempt_at=later,
                last_error=SSL_ERROR,
            )
            s.add(d)
            await s.flush()
            s.add(WebhookAttempt(delivery_id=d.id, error=SSL_ERROR, duration_ms=12))
            await s.commit()

        ctx = await b.new_context(locale="es-AR", timezone_id="America/Argentina/Salta")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/webhooks")
        await ready(page, "webhooks")
        await page.evaluate("window.sameDocument = true")  # gone if the page reloads
        item = page.locator("#webhook-list li", has_text=receiver.url)
        await item.locator("button", has_text="Entregas").click()
        row = page.locator("#delivery-table tbody tr", has_text="case.closed")
        await row.wait_for()

        # In words; the raw record is kept, one click away.
        shown = await row.inner_text()
        assert "No se pudo conectar (certificado no confiable)" in shown, shown
        assert "CERTIFICATE_VERIFY_FAILED" not in shown, shown
        answer = row.locator("td.answer")
        summary = answer.locator("summary")
        assert await summary.inner_text() == "No se pudo conectar (certificado no confiable)"
        await summary.click()
        assert "CERTIFICATE_VERIFY_FAILED" in await answer.inner_text()
        assert await axe_violations(page) == []
        # The next attempt in her time (Salta), not in UTC.
        nxt = await row.locator("td.next").inner_text()
        assert clock_time(later) in nxt and clock_time(later, ZoneInfo("UTC")) not in nxt, nxt
        assert await row.locator("td.state").inner_text() == "Pendiente"

        # Sent again: queued at once, due now.
        await row.locator("button", has_text="Reenviar").click()
        await row.locator("td.state", has_text="En cola: se enviará de nuevo").wait_for()
        async with sessionmaker()() as s:
            queued = (await s.execute(select(WebhookDelivery))).scalar_one()
        assert queued.next_attempt_at < later
        nxt = await row.locator("td.next").inner_text()
        assert clock_time(queued.next_attempt_at) in nxt, nxt

        # The dispatcher sends it; the receiver answers 500: the row says so by itself.
        receiver.answers.append((500, {}))
        await dispatch(http)
        assert len(receiver.calls) == 1
        await row.locator("td.answer", has_text="HTTP 500").wait_for(timeout=15000)
        assert await row.locator("td.state").inner_text() == "Pendiente"
        assert await page.evaluate("window.sameDocument") is True
        await ctx.close()
