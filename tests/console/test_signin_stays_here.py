"""Signing in never sends her to another site, whatever the link's `next` says: "//host"
and "/\\host" (which a browser reads as another site) land on her first page; a path of
this site is followed. In a real browser."""

from tests.console.support import PASSWORD, ready, seeded_console


async def _sign_in_from(page, base: str, email: str, next_: str) -> None:
    await page.goto(f"{base}/signin?next={next_}")
    await page.wait_for_selector("body[data-ready=signin]")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_url(lambda u: "/signin" not in u, timeout=15000)


async def test_next_never_leaves_the_site(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        for bad in ("/%5Cexample.org/x", "//example.org/x", "/%5C%5Cexample.org"):
            page = await (await b.new_context()).new_page()
            await _sign_in_from(page, base, prog.email("clinician"), bad)
            await ready(page, "cases")
            assert page.url == f"{base}/cases", (bad, page.url)
        page = await (await b.new_context()).new_page()
        await _sign_in_from(page, base, prog.email("clinician"), "/facility")
        await ready(page, "facility")
        assert page.url == f"{base}/facility"
