"""The intake's choices, in a real browser: the specialty is chosen, never defaulted to the
first of the list (which is in the reader's own language's order); a file that is no photo
is refused on the form before anything is sent; a photo the service still refuses once the
case is made leaves her on the case she did send, told so, with no draft left behind."""

import json
import unicodedata
from pathlib import Path
from typing import Any

import httpx

from tests.console.support import bearers, png, ready, seeded_console, signed_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
DRAFT_KEYS = "Object.keys(localStorage).filter(k => k.startsWith('console:case-draft:'))"
# The photos kept on the device with a draft (drafts.js: IndexedDB 'console-drafts').
STORED_FILES = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open('console-drafts', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('files');
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const keys = req.result.transaction('files', 'readonly').objectStore('files').getAllKeys();
    keys.onsuccess = () => { req.result.close(); resolve(keys.result); };
  };
})"""


def catalogue(lang: str) -> dict[str, str]:
    return {
        **json.loads((CATALOGUES / "en.json").read_text("utf-8")),
        **json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8")),
    }


def reading_order(text: str) -> str:
    """How a reader orders the labels: accents and case aside (enough for these labels)."""
    bare = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in bare if not unicodedata.combining(ch)).casefold()


async def cases_of(base: str, prog: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician")
        r = await c.get("/api/v1/cases", headers=h["clinician"])
        r.raise_for_status()
        return list(r.json()["items"])


async def fill_all_but_specialty(page: Any, question: str) -> None:
    await page.fill("#question", question)
    await page.fill("#patient-reference", "HSR-3141")
    await page.fill("#patient-age", "52")
    await page.check("#consent")


def posts_to_cases(page: Any) -> list[str]:
    """Every case or attachment the page asks the service to make, from now on."""
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/api/v1/cases" in r.url else None,
    )
    return sent


async def test_the_specialty_is_chosen_from_a_list_in_her_own_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        es = catalogue("es")

        # A first, empty choice, and it is the one shown: nothing is chosen for her.
        options = await page.eval_on_selector_all(
            "#specialty option", "os => os.map(o => [o.value, o.textContent])"
        )
        assert options[0] == ["", es["intake.choose_specialty"]]
        assert await page.input_value("#specialty") == ""
        # The specialties in Spanish reading order (not the English codes' order); one that
        # nobody can take now says so after its name (test_intake_specialty_nobody.py).
        nobody = f" — {es['intake.specialty_nobody']}"
        labels = [text.removesuffix(nobody) for _, text in options[1:]]
        codes = [value for value, _ in options[1:]]
        assert labels == [es[f"specialty.{code}"] for code in codes]
        assert labels == sorted(labels, key=reading_order)
        assert codes != sorted(codes)  # the two orders differ: this checks something
        assert "anesthesiology" in codes and "dermatology" in codes

        # Sent without a specialty: refused on the form, nothing goes to the service.
        sent = posts_to_cases(page)
        await fill_all_but_specialty(page, "¿Placa anular en el antebrazo: tiña?")
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#case-problems:not([hidden])")
        assert await page.get_attribute("#specialty", "aria-invalid") == "true"
        described = (await page.get_attribute("#specialty", "aria-describedby") or "").split()
        assert await page.inner_text(f"#{described[0]}") == es["intake.specialty_required"]
        said = await page.inner_text("#case-problems")
        assert es["intake.problems_one"].replace("{count}", "1") in said, said
        assert es["field.specialty"] in said, said
        assert sent == []
        assert await cases_of(base, prog) == []

        # The draft keeps her choice once made, and a restored draft shows it again.
        await page.select_option("#specialty", "dermatology")
        await page.wait_for_function(
            "() => Object.keys(localStorage).some(k => k.startsWith('console:case-draft:')"
            " && JSON.parse(localStorage[k]).fields.specialty === 'dermatology')"
        )
        await page.reload()
        await ready(page, "case_new")
        assert await page.input_value("#specialty") == "dermatology"
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        made = await cases_of(base, prog)
        assert [c["specialty"] for c in made] == ["dermatology"]
        assert made[0]["id"] == page.url.rsplit("/", 1)[1]
        assert errors == []
        await ctx.close()


async def test_a_file_that_is_no_photo_is_refused_before_anything_is_sent(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        en = catalogue("en")
        sent = posts_to_cases(page)
        await page.select_option("#specialty", "dermatology")
        await fill_all_but_specialty(page, "Annular plaque on the forearm: tinea?")
        await page.set_input_files(
            "#photo",
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"itchy, 3 weeks"}],
        )
        # Said as soon as it is chosen, and again when she presses send anyway.
        await page.wait_for_selector("#case-error:not([hidden])")
        assert await page.inner_text("#case-error") == en["intake.photo_type"]
        assert await page.locator("#photo-preview").is_hidden()
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#photo[aria-invalid=true]")
        assert await page.inner_text("#case-error") == en["intake.photo_type"]
        assert "/cases/new" in page.url
        assert sent == []
        assert await cases_of(base, prog) == []
        assert await page.evaluate(STORED_FILES) == []

        # A real photo instead: the case goes, with it.
        await page.set_input_files(
            "#photo", files=[{"name": "forearm.png", "mimeType": "image/png", "buffer": png()}]
        )
        await page.wait_for_selector("#photo-preview:not([hidden])")
        assert await page.locator("#case-error").is_hidden()
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")
        await page.wait_for_selector("#attachment-list img")
        assert len(await cases_of(base, prog)) == 1
        await ctx.close()


async def test_a_photo_the_service_refuses_leaves_her_on_the_case_she_sent(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        en = catalogue("en")
        await page.select_option("#specialty", "dermatology")
        await fill_all_but_specialty(page, "Ulcer on the heel: what dressing?")
        # Named and typed as a JPEG, but its bytes are text: only the service can tell.
        await page.set_input_files(
            "#photo",
            files=[{"name": "heel.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"}],
        )
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url("**/cases/case_*")
        await page.wait_for_selector(
            f"#status:has-text({json.dumps(en['intake.sent_photo_refused'])})"
        )
        await ready(page, "case")
        case_id = page.url.rsplit("/", 1)[1]

        made = await cases_of(base, prog)
        assert [c["id"] for c in made] == [case_id]
        assert made[0]["question"] == "Ulcer on the heel: what dressing?"
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(f"/api/v1/cases/{case_id}/attachments", headers=h["clinician"])
            r.raise_for_status()
        assert r.json()["items"] == []
        # The draft is gone from the device, photo and all: a new case starts empty.
        assert await page.evaluate(DRAFT_KEYS) == []
        assert await page.evaluate(STORED_FILES) == []
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        assert await page.input_value("#question") == ""
        assert await page.locator("#draft-state").is_hidden()
        await ctx.close()
