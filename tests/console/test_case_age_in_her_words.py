"""A patient's age is said with its unit, in the viewer's language and number format, in a
real browser: 1.5 reads "1,5 años" to the clinician in Spanish, "1.5 years" in English and
"1,5 an" in French; a baby under one year is said in months where the age given is a
fraction of a year ("6 meses"), and an age of 0 as under a year, not as a bare "0"."""

from tests.console.support import ready, seeded_console, signed_in


async def _facts(b, base: str, prog, who: str, lang: str, case_id: str) -> str:
    from app.core.clock import utcnow

    ctx = await b.new_context()
    await ctx.clock.set_fixed_time(utcnow())
    page = await ctx.new_page()
    await signed_in(page, base, prog.email(who), lang=lang)
    await page.goto(f"{base}/cases/{case_id}")
    await ready(page, "case")
    text = str(await page.inner_text("#case-facts"))
    await ctx.close()
    return text


async def test_the_age_has_its_unit_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        made = {}
        for ref, age, sex in (("HSR-7788", 1.5, "female"), ("HSR-7789", 0.5, None)):
            made[ref] = await factory.make_case(
                prog.org["id"],
                patient_reference=ref,
                patient_age_years=age,
                patient_sex=sex,
                submitted_by_id=prog.people["clinician"]["id"],
            )
        newborn = await factory.make_case(
            prog.org["id"], patient_reference="JUM-0042", patient_age_years=0, patient_sex="male"
        )
        toddler = made["HSR-7788"].id
        es = await _facts(b, base, prog, "clinician", "es", toddler)
        assert "HSR-7788 · 1,5 años ·" in es, es
        en = await _facts(b, base, prog, "coordinator", "en", toddler)
        assert "HSR-7788 · 1.5 years ·" in en, en
        fr = await _facts(b, base, prog, "coordinator", "fr", toddler)
        assert "HSR-7788 · 1,5 an ·" in fr, fr

        baby = await _facts(b, base, prog, "clinician", "es", made["HSR-7789"].id)
        assert "HSR-7789 · 6 meses" in baby, baby
        zero = await _facts(b, base, prog, "coordinator", "fr", newborn.id)
        assert "JUM-0042 · moins d’un an · Homme" in zero, zero
