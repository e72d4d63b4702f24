"""A specialist's inbox on a link that drops: the offer made while she was cut off
appears in her live feed when the link returns (the socket resumes from the last event
it heard), not only in the list the page reads again."""

import re

import httpx

from tests.cases.support import case_body
from tests.console.support import (
    LinkProxy,
    browser,
    console_server,
    need_chromium,
    seed,
    signed_in,
    token,
)
from tests.realtime.support import open_socket


async def test_an_offer_made_while_the_link_was_down_reaches_the_feed(app, database_url):
    need_chromium()
    async with console_server(database_url) as server, browser() as b:
        base = f"http://{server.host}"
        prog = await seed(base)
        async with LinkProxy(server.port) as link:
            ctx = await b.new_context()
            page = await ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(f"{e} {e.stack}"))
            await signed_in(page, link.base, prog.email("specialist"), "inbox")
            await page.wait_for_selector("#link-state[data-state=open]")
            assert await page.locator("#feed li").count() == 0

            await link.cut()
            await page.wait_for_selector("#link-state[data-state=offline]")
            async with httpx.AsyncClient(base_url=base) as c:
                # Her phone's inbox, on another link, says when the worker has offered it.
                phone = await open_socket(
                    server.host, "/ws/inbox", await token(c, prog.email("specialist"))
                )
                auth = {"Authorization": f"Bearer {await token(c, prog.email('clinician'))}"}
                body = case_body(specialty="dermatology", urgency="urgent", languages=["es"])
                r = await c.post("/api/v1/cases", json=body, headers=auth)
                assert r.status_code == 201, r.text
                case_id = r.json()["id"]
            # The worker offers it to her while the console's link is down.
            while (ev := await phone.next("event", within=20))["event"] != "offer.created":
                pass
            assert ev["payload"]["case_id"] == case_id
            await phone.close()

            await link.restore()
            await page.wait_for_selector("#link-state[data-state=open]", timeout=20000)
            item = page.locator(f"#feed li:has(a[href='/cases/{case_id}'])")
            await item.first.wait_for(timeout=10000)
            feed = await page.locator("#feed").inner_text()
            assert "New offer" in feed
            # Every entry in words (the notification of the offer is not a second entry).
            assert not re.search(r"\b[a-z_]+\.[a-z_]+\b", feed), feed
            # The list is read again after the feed item shows (a fetch over the link just
            # back): wait for the offer to appear, then it is there once.
            offer = page.locator(f"#offer-list [data-case-id='{case_id}']")
            await offer.first.wait_for(timeout=10000)
            assert await offer.count() == 1
            assert not errors, errors
            await ctx.close()
