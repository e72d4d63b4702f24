"""On a clinic's shared phone, signing out leaves nothing of a patient for the next
person: an intake being filled (with its photo) is deleted, after she is told that it was
not sent and chooses to sign out anyway (it used to stay on the device)."""

from tests.console.support import png, ready, seeded_console, sign_in

KEYS = """() => Object.keys(localStorage).filter((k) => k.startsWith('console:'))"""
PHOTOS = """() => new Promise((resolve) => {
  const req = indexedDB.open('console-drafts', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('files');
  req.onsuccess = () => {
    const all = req.result.transaction('files').objectStore('files').getAllKeys();
    all.onsuccess = () => { req.result.close(); resolve(all.result); };
  };
})"""


async def test_signing_out_deletes_her_unsent_intake_after_saying_so(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.fill("#question", "Burn on the forearm, blistering: dressing?")
        await page.fill("#patient-reference", "HSR-4242")
        await page.set_input_files(
            "#photo", files=[{"name": "arm.png", "mimeType": "image/png", "buffer": png()}]
        )
        await page.wait_for_selector("#photo-preview:not([hidden])")
        await page.wait_for_function(
            "() => Object.keys(localStorage).some((k) => k.startsWith('console:case-draft:'))"
        )
        assert await page.evaluate(PHOTOS)

        said = []

        async def stay(dialog):
            said.append(dialog.message)
            await dialog.dismiss()

        page.once("dialog", stay)
        await page.click("#signout")
        await page.wait_for_function("() => true")
        assert said and "Not sent yet" in said[0] and "a case" in said[0]
        assert page.url.endswith("/cases/new")  # she stayed: nothing was deleted
        assert await page.evaluate(KEYS)

        page.once("dialog", lambda d: d.accept())
        await page.click("#signout")
        await page.wait_for_url(f"{base}/signin")
        assert await page.evaluate(KEYS) == []
        assert await page.evaluate(PHOTOS) == []

        await sign_in(page, base, prog.email("clinician"), "cases")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        assert await page.input_value("#question") == ""
        await ctx.close()
