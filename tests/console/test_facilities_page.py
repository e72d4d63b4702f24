"""Facilities in the console: a coordinator registers a mission hospital by choosing its
country by name and its zone from the names suggested, is refused in words (and keeps what
she typed) when the zone does not exist, changes a facility without overwriting unseen
what someone else saved meanwhile, and a clinician is not offered the page. Before, a
facility could only be registered through the API."""

import httpx

from tests.console.support import ready, seeded_console, signed_in, token

API = "/api/v1/organizations"


async def _facilities(base: str, email: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=base) as c:
        auth = {"Authorization": f"Bearer {await token(c, email)}"}
        return list((await c.get(API, headers=auth, params={"limit": 200})).json()["items"])


async def test_a_coordinator_registers_and_changes_a_facility(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        coordinator = prog.email("coordinator")
        ctx = await b.new_context(locale="en-GB")
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, coordinator, "queue")
        await page.click("#nav a[href='/admin/facilities']")
        await ready(page, "facilities")
        row = page.locator(f"#facility-table tr[data-org-id='{prog.org['id']}']")
        assert "Argentina" in await row.inner_text()  # the country by its name, not "AR"

        # The zone typed wrong: refused beside the field, nothing registered, nothing lost.
        await page.click("#facility-create summary")
        await page.fill("#f-name", "Hospital Misión Yacuiba")
        await page.select_option("#f-country", label="Bolivia")
        zones = await page.eval_on_selector(
            "#f-zone", "el => [...el.list.options].map((o) => o.value)"
        )
        assert "America/La_Paz" in zones and "UTC" in zones
        # Today's names, not the old ones a browser lists (Asia/Calcutta, Europe/Kiev).
        assert "Asia/Kolkata" in zones and "Europe/Kyiv" in zones
        assert "Asia/Calcutta" not in zones and "Europe/Kiev" not in zones
        # Each country once, none retired (DD, East Germany, once shown as a second
        # "Germany" and stored as such).
        countries = await page.eval_on_selector_all(
            "#f-country option", "os => os.map((o) => [o.value, o.textContent])"
        )
        names = [name for code, name in countries if code]
        assert len(names) == len(set(names)) == 249, len(names)
        assert "DE" in dict(countries) and "DD" not in dict(countries)
        await page.fill("#f-zone", "America/Yacuiba")
        await page.fill("#f-languages", "es, gn")
        await page.fill("#f-text", "Basic lab, ultrasound; no X-ray.")
        await page.fill("#f-tags", "ultrasound, cbc")
        await page.click("#facility-form button[type=submit]")
        problem = page.locator("#facility-problem")
        await problem.wait_for()
        assert await page.get_attribute("#f-zone", "aria-invalid") == "true"
        assert "Time zone" in await problem.inner_text()
        assert await page.input_value("#f-name") == "Hospital Misión Yacuiba"
        assert await page.input_value("#f-text") == "Basic lab, ultrasound; no X-ray."
        assert len(await _facilities(base, coordinator)) == 1

        await page.fill("#f-zone", "America/La_Paz")
        await page.click("#facility-form button[type=submit]")
        await page.wait_for_selector("#facility-created:not([hidden])")
        assert "Hospital Misión Yacuiba is registered." in await page.inner_text(
            "#facility-created"
        )
        invite_link = await page.get_attribute("#facility-created a", "href")
        [new] = [o for o in await _facilities(base, coordinator) if o["id"] != prog.org["id"]]
        assert (new["name"], new["country"], new["timezone"], new["languages"]) == (
            "Hospital Misión Yacuiba",
            "BO",
            "America/La_Paz",
            ["es", "gn"],
        )
        assert new["local_resources"] == {
            "text": "Basic lab, ultrasound; no X-ray.",
            "tags": ["ultrasound", "cbc"],
        }
        # The same again is refused beside the form: two of one name could not be told apart.
        await page.click("#facility-create summary")
        await page.fill("#f-name", "hospital misión yacuiba")
        await page.select_option("#f-country", label="Bolivia")
        await page.fill("#f-zone", "America/La_Paz")
        await page.click("#facility-form button[type=submit]")
        await page.wait_for_selector("#facility-problem:has-text('already registered')")
        assert len(await _facilities(base, coordinator)) == 2
        await page.fill("#f-name", "")
        await page.click("#facility-create summary")

        mine = page.locator(f"#facility-table tr[data-org-id='{new['id']}']")
        assert "Bolivia" in await mine.inner_text()
        assert "(La Paz, " in await mine.inner_text()  # its time now, with the zone by name
        assert "Spanish, Guarani" in await mine.inner_text()  # languages by name

        # She opens it to change what it has; a colleague saves first (through the API).
        await mine.locator("button.edit").click()
        await page.wait_for_selector("#facility-edit:not([hidden])")
        assert await page.input_value("#e-tags") == "ultrasound, cbc"
        async with httpx.AsyncClient(base_url=base) as c:
            auth = {"Authorization": f"Bearer {await token(c, coordinator)}"}
            r = await c.patch(
                f"{API}/{new['id']}",
                headers=auth,
                json={"local_resources": {"text": "Now with X-ray.", "tags": ["x-ray"]}},
            )
            assert r.status_code == 200, r.text
        await page.fill("#e-text", "Basic lab, ultrasound, oxygen.")
        await page.click("#facility-edit-form button[type=submit]")
        theirs = page.locator("#facility-theirs")
        await theirs.wait_for()
        assert "Now with X-ray." in await theirs.inner_text()
        assert await page.input_value("#e-text") == "Basic lab, ultrasound, oxygen."
        await page.click("#keep-mine")
        await page.wait_for_selector("#facility-theirs", state="hidden")
        await page.wait_for_selector("#status:has-text('Saved.')")
        [saved] = [o for o in await _facilities(base, coordinator) if o["id"] == new["id"]]
        assert saved["local_resources"]["text"] == "Basic lab, ultrasound, oxygen."
        assert saved["version"] == new["version"] + 2
        # "Invite its clinicians": the People page with the new facility chosen.
        await page.click(f"#facility-created a[href='{invite_link}']")
        await ready(page, "users")
        assert await page.input_value("#inv-org") == new["id"]
        assert await page.input_value("#inv-role") == "clinician"
        assert errors == []
        await ctx.close()

        # In Spanish, countries are named in Spanish.
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, coordinator)
        await page.goto(f"{base}/admin/facilities")
        await ready(page, "facilities")
        assert await page.locator("#f-country option[value='FR']").text_content() == "Francia"
        await ctx.close()

        # A clinician is not offered the page, and is told so at its address.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases")
        assert await page.locator("#nav a[href='/admin/facilities']").is_hidden()
        await page.goto(f"{base}/admin/facilities")
        await ready(page, "facilities")
        assert await page.locator("#not-for-role").is_visible()
        assert await page.locator("main form").count() == 0
        await ctx.close()
