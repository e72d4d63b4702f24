"""A link that drops while a page opens does not sign her out: the page says there is no
connection and offers to try again, and her session goes on when the link returns. (It
sent her to the sign-in page, which asked for her password even once the link was back.)
In a real browser."""

from tests.console.support import ready, seeded_console, sign_in


async def test_a_refresh_lost_to_the_link_says_so_and_the_page_comes_back(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(viewport={"width": 360, "height": 740})).new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")

        async def dropped(route):
            await route.abort("internetdisconnected")

        await page.route("**/session/refresh", dropped)
        await page.goto(f"{base}/follow-ups")
        await page.wait_for_selector("#page-unreached")
        assert "/signin" not in page.url, page.url
        assert "No connection" in await page.inner_text("#page-unreached")
        await page.unroute("**/session/refresh", dropped)
        await page.click("#page-again")
        await ready(page, "followups")
        assert page.url.startswith(f"{base}/follow-ups"), page.url


async def test_the_sign_in_page_lets_her_through_while_her_session_lasts(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context()).new_page()
        await sign_in(page, base, prog.email("specialist"), "inbox")
        await page.goto(f"{base}/signin?next=/follow-ups")
        await ready(page, "followups")
        assert page.url.startswith(f"{base}/follow-ups"), page.url
        # Signed out, the sign-in page stays.
        await page.click("#signout")
        await page.wait_for_url(lambda u: "/signin" in u)
        await page.goto(f"{base}/signin")
        await ready(page, "signin")
        await page.wait_for_load_state("networkidle")  # its check of a session has answered
        assert page.url == f"{base}/signin"
