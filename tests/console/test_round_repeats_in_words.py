"""A round's repetition is said in words, in the viewer's language, in a real browser: on
the round, in the list of rounds, and while a coordinator types the rule. The API keeps the
RRULE; people read "every month, on the last Friday"."""

from datetime import timedelta

from app.console import assets
from tests.console.support import ready, seeded_console, signed_in
from tests.timing import T0

SAID = """async ([url, rules, zone]) => {
  const { describeRule } = await import(url);
  return rules.map((rule) => describeRule(rule, zone));
}"""

ENGLISH = {
    "FREQ=DAILY": "Every day",
    "FREQ=DAILY;INTERVAL=2": "Every 2 days",
    "FREQ=WEEKLY": "Every week",
    "FREQ=WEEKLY;BYDAY=TU,TH": "Every week on Tuesday and Thursday",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO": "Every 2 weeks on Monday",
    "FREQ=MONTHLY;BYMONTHDAY=15": "Every month, on day 15",
    "FREQ=MONTHLY;BYDAY=1TU;COUNT=6": "Every month, on the first Tuesday, 6 times",
    "freq=monthly;interval=3;byday=-1fr": "Every 3 months, on the last Friday",
    "FREQ=YEARLY": "Every year",
    "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T000000Z": "Every week on Tuesday, until Jun 30, 2027",
    "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630": "Every week on Tuesday, until Jun 30, 2027",
    "FREQ=DAILY;COUNT=1": "Every day, once",
    "FREQ=MONTHLY;BYMONTHDAY=1": "Every month, on day 1",
    # Outside what it says in words, or not a valid rule: shown as written.
    "FREQ=DAILY;COUNT=0": "FREQ=DAILY;COUNT=0",
    "FREQ=DAILY;COUNT=x": "FREQ=DAILY;COUNT=x",
    "FREQ=MONTHLY;BYMONTHDAY=32": "FREQ=MONTHLY;BYMONTHDAY=32",
    "FREQ=DAILY;COUNT=3;UNTIL=20270630T000000Z": "FREQ=DAILY;COUNT=3;UNTIL=20270630T000000Z",
    "FREQ=DAILY;UNTIL=tomorrow": "FREQ=DAILY;UNTIL=tomorrow",
    "FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO": "FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO",
    "FREQ=WEEKLY;BYDAY=TU,XX": "FREQ=WEEKLY;BYDAY=TU,XX",
    "FREQ=MONTHLY;BYDAY=5TU": "FREQ=MONTHLY;BYDAY=5TU",
    "not a rule": "not a rule",
}
# The server keeps a series' end in UTC (UNTIL=...Z): it falls on the day of the round's
# zone. Midnight UTC on 1 July is the evening of 30 June in Salta (UTC-3).
SALTA = {
    "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270701T000000Z": "Every week on Tuesday, until Jun 30, 2027",
    "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270701": "Every week on Tuesday, until Jul 1, 2027",
}
OTHERS = {
    "es": {
        "FREQ=WEEKLY;BYDAY=TU": "Cada semana: martes",
        "FREQ=MONTHLY;BYDAY=-1FR": "Cada mes, el último viernes",
        "FREQ=DAILY;COUNT=3": "Todos los días, 3 veces",
        "FREQ=MONTHLY;BYMONTHDAY=1": "Cada mes, el día 1",
    },
    "fr": {
        "FREQ=WEEKLY;BYDAY=TU": "Chaque semaine : mardi",
        "FREQ=MONTHLY;BYDAY=-1FR": "Chaque mois, le dernier vendredi",
        "FREQ=DAILY;COUNT=3": "Tous les jours, 3 fois",
        "FREQ=MONTHLY;BYMONTHDAY=1": "Chaque mois, le 1er",
    },
}


async def test_a_rounds_repetition_is_said_in_words(app, factory):
    url = assets.url("js/rrule.js")
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        assert await page.inner_text("#r-rrule-says") == "Repeats: Every week on Tuesday"
        # The common repetitions follow the first start: Wednesday 25 November 2026, the
        # month's fourth Wednesday.
        await page.fill("#r-start", (T0 + timedelta(days=2)).strftime("%Y-%m-%dT09:00"))
        choices = {
            "weekly": ("FREQ=WEEKLY;BYDAY=WE", "Every week on Wednesday"),
            "biweekly": ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "Every 2 weeks on Wednesday"),
            "monthly_nth": ("FREQ=MONTHLY;BYDAY=4WE", "Every month, on the fourth Wednesday"),
            "monthly_last": ("FREQ=MONTHLY;BYDAY=-1WE", "Every month, on the last Wednesday"),
        }
        for choice, (rule, words) in choices.items():
            await page.select_option("#r-repeat", choice)
            assert await page.input_value("#r-rrule") == rule
            assert await page.inner_text("#r-rrule-says") == f"Repeats: {words}"
        # A fifth weekday is the month's last: Sunday 29 November 2026.
        await page.select_option("#r-repeat", "monthly_nth")
        await page.fill("#r-start", (T0 + timedelta(days=6)).strftime("%Y-%m-%dT09:00"))
        assert await page.input_value("#r-rrule") == "FREQ=MONTHLY;BYDAY=-1SU"
        # A common rule is read in words; its text shows for "another rule", typed by hand,
        # and a new start leaves that alone.
        assert await page.is_hidden("#r-rrule") and await page.is_hidden("label[for=r-rrule]")
        await page.select_option("#r-repeat", "custom")
        await page.fill("#r-rrule", "FREQ=MONTHLY;BYDAY=-1FR")
        assert await page.input_value("#r-repeat") == "custom"
        assert await page.inner_text("#r-rrule-says") == "Repeats: Every month, on the last Friday"
        await page.fill("#r-start", (T0 + timedelta(days=4)).strftime("%Y-%m-%dT09:00"))
        assert await page.input_value("#r-rrule") == "FREQ=MONTHLY;BYDAY=-1FR"
        await page.fill("#r-title", "Paediatric dermatology round")
        await page.click("#round-form button[type=submit]")
        await page.wait_for_url("**/rounds/rnd_*")
        await ready(page, "round")
        assert "Every month, on the last Friday" in await page.inner_text("#round-facts")
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        assert "Every month, on the last Friday" in await page.inner_text("#round-list")
        said = await page.evaluate(SAID, [url, list(ENGLISH), "UTC"])
        assert dict(zip(ENGLISH, said, strict=True)) == ENGLISH
        said = await page.evaluate(SAID, [url, list(SALTA), "America/Argentina/Salta"])
        assert dict(zip(SALTA, said, strict=True)) == SALTA
        await ctx.close()

        for lang, expected in OTHERS.items():
            ctx = await b.new_context(locale=lang)
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("coordinator"), "queue")
            assert await page.get_attribute("html", "lang") == lang
            said = await page.evaluate(SAID, [url, list(expected), "UTC"])
            assert dict(zip(expected, said, strict=True)) == expected
            await ctx.close()
