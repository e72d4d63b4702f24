"""An admin subscribes a partner's URL, sends a failed delivery again and unsubscribes, in a
real browser: sending again says it was queued (it used to say nothing), and the
deliveries of a deleted webhook leave the page with it (they used to stay)."""

from sqlmodel import select

from app.core.db import sessionmaker
from app.partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.console.support import ready, seeded_console, signed_in

HOOK = "http://127.0.0.1:9/hooks"  # nothing listens: every attempt fails


async def test_an_admin_sends_a_delivery_again_then_unsubscribes(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/webhooks")
        await ready(page, "webhooks")
        await page.fill("#wh-url", HOOK)
        await page.check("#event-boxes input[value='case.submitted']")
        await page.click("#webhook-form button[type=submit]")
        await page.wait_for_selector("#webhook-secret:not([hidden])")

        async with sessionmaker()() as s:
            hook = (await s.execute(select(WebhookEndpoint))).scalar_one()
            s.add(
                WebhookDelivery(
                    endpoint_id=hook.id,
                    event_id=1,
                    event_type="case.submitted",
                    status=DeliveryStatus.failed,
                    attempts=8,
                    failures=8,
                    last_error="connection refused",
                )
            )
            await s.commit()

        item = page.locator("#webhook-list li", has_text=HOOK)
        await item.locator("button", has_text="Deliveries").click()
        row = page.locator("#delivery-table tbody tr", has_text="case.submitted")
        await row.wait_for()
        assert "Failed" in await row.inner_text()
        await row.locator("button", has_text="Send again").click()
        await page.wait_for_selector("#status:has-text('Queued: it will be sent again')")
        await page.locator("#delivery-table tbody tr", has_text="Pending").wait_for()
        async with sessionmaker()() as s:
            d = (await s.execute(select(WebhookDelivery))).scalar_one()
            assert d.status == DeliveryStatus.pending

        page.once("dialog", lambda d: d.accept())
        await item.locator("button", has_text="Delete").click()
        await page.locator("#webhook-list li", has_text="No webhooks.").wait_for()
        assert await page.locator("#deliveries").is_hidden()
        await ctx.close()
