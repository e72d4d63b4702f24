"""A photo over the service's limit (MAX_ATTACHMENT_BYTES) is said in her language with the
limit, never with the service's English ("The body exceeds ... bytes."): the body-limit
middleware's refusal (`payload-too-large`) has its words in the catalogue and names the
file's limit (`max_bytes`). Where the page knows the limit (rendered from the settings),
the file is refused on the form before a slow upload starts."""

import json
from pathlib import Path
from typing import Any

import httpx

from app.core.clock import utcnow
from app.core.config import get_settings
from tests.console.support import bearers, ready, seeded_console, signed_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
ES = json.loads((CATALOGUES / "es.json").read_text("utf-8"))


def big_jpeg() -> bytes:
    """A .jpg 1 MB over the limit whose pixels the phone cannot read (so it is not shrunk)."""
    return b"\xff\xd8\xff\xe0" + b"\0" * (get_settings().max_attachment_bytes + 1024 * 1024)


def big_jpeg_file(tmp_path: Path) -> Path:
    path = tmp_path / "espalda.jpg"
    path.write_bytes(big_jpeg())
    return path


def too_large() -> str:
    mb = get_settings().max_attachment_bytes // (1024 * 1024)
    return ES["intake.photo_too_large"].replace("{max}", f"{mb} MB")


async def spanish_intake(b: Any, base: str, prog: Any) -> tuple[Any, Any]:
    ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
    await ctx.clock.set_fixed_time(utcnow())
    page = await ctx.new_page()
    await signed_in(page, base, prog.email("clinician"), lang="es")
    await page.goto(f"{base}/cases/new")
    await ready(page, "case_new")
    await page.select_option("#specialty", "dermatology")
    await page.fill("#question", "¿Lesión pigmentada en la espalda: melanoma?")
    await page.fill("#patient-reference", "HSR-7001")
    await page.check("#consent")
    return ctx, page


def uploads(page: Any) -> list[str]:
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/attachments" in r.url else None,
    )
    return sent


async def test_the_service_refusing_a_photo_too_large_is_said_in_spanish(app, factory, tmp_path):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx, page = await spanish_intake(b, base, prog)
        # A page that does not know the limit (an older one): the service decides.
        await page.evaluate("document.getElementById('photo').removeAttribute('data-max-bytes')")
        await page.set_input_files("#photo", big_jpeg_file(tmp_path))
        await page.wait_for_selector("#photo-preview:not([hidden])")
        await page.click("#case-form button[type=submit]")
        await page.wait_for_url("**/cases/case_*")
        status = page.locator("#status")
        await status.filter(has_text=ES["intake.sent_photo_refused"]).wait_for()
        said = await status.inner_text()
        assert too_large() in said, said
        assert "exceeds" not in said and "bytes" not in said, said
        await ctx.close()

    # The service's refusal itself: its kind has words in every catalogue, and the file's
    # limit is named (as the route's own attachment-too-large names it).
    for lang in ("en", "es", "fr"):
        words = json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8"))
        assert words.get("problem.payload-too-large"), lang


async def test_the_limit_is_named_by_the_middlewares_refusal(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "¿Lesión?",
                    "patient": {"reference": "HSR-7002"},
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/cases/{r.json()['id']}/attachments",
                headers=h["clinician"],
                files={"file": ("espalda.jpg", big_jpeg(), "image/jpeg")},
            )
        assert r.status_code == 413
        assert r.json()["type"].endswith("/payload-too-large")
        assert r.json()["max_bytes"] == get_settings().max_attachment_bytes


async def test_a_photo_over_the_limit_is_refused_before_it_is_sent(app, factory, tmp_path):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx, page = await spanish_intake(b, base, prog)
        limit = await page.get_attribute("#photo", "data-max-bytes")
        assert limit == str(get_settings().max_attachment_bytes)
        sent = uploads(page)
        await page.set_input_files("#photo", big_jpeg_file(tmp_path))
        await page.wait_for_selector("#photo[aria-invalid=true]")
        described = (await page.get_attribute("#photo", "aria-describedby") or "").split()
        assert await page.locator(f"#{described[0]}").inner_text() == too_large()
        assert await page.locator("#photo-preview").is_hidden()
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#photo[aria-invalid=true]")
        assert "/cases/new" in page.url
        assert sent == []
        await ctx.close()
