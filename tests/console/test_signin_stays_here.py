"""Signing in never sends her to another site, whatever the link's `next` says: "//host"
and "/\\host" (which a browser reads as another site) land on her first page; a path of
this site is followed. In a real browser."""

from tests.console.support import ready, seeded_console, sign_in


async def test_next_never_leaves_the_site(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        for bad in ("/%5Cexample.org/x", "//example.org/x", "/%5C%5Cexample.org"):
            page = await (await b.new_context()).new_page()
            await sign_in(page, base, prog.email("clinician"), None, next_=bad)
            await ready(page, "cases")
            assert page.url == f"{base}/cases", (bad, page.url)
        page = await (await b.new_context()).new_page()
        await sign_in(page, base, prog.email("clinician"), None, next_="/facility")
        await ready(page, "facility")
        assert page.url == f"{base}/facility"


async def test_signing_in_goes_straight_to_her_first_page(app, factory):
    """Each role lands on her own first page at once: going through "/" first cost a slow
    link a page more (its HTML, a token refresh, her account, its script) before the one
    she came for."""
    async with seeded_console(app, factory) as (base, b, prog):
        for who, lands_on, path in [
            ("clinician", "cases", "/cases"),
            ("specialist", "inbox", "/inbox"),
            ("coordinator", "queue", "/queue"),
            ("admin", "users", "/admin/users"),
        ]:
            page = await (await b.new_context()).new_page()
            pages: list[str] = []
            page.on(
                "request",
                lambda r, pages=pages: (
                    pages.append(r.url.removeprefix(base))
                    if r.resource_type == "document"
                    else None
                ),
            )
            await sign_in(page, base, prog.email(who), lands_on)
            assert page.url == f"{base}{path}", (who, page.url)
            assert pages == ["/signin", path], (who, pages)
