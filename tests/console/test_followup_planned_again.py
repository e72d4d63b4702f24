"""A follow-up planned again from the case page: the patient cannot come on the day, and the
clinician who was to see her is away, so the follow-up moves to another day and to the
specialist. Before, the page offered only done, missed or cancelled. In a real browser, in
La Paz (UTC-4, no summer time): the time she types is hers."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    assigned_case,
    bearers,
    case_page,
    plan_follow_up,
    seeded_console,
    status_says,
)

LA_PAZ = ZoneInfo("America/La_Paz")


def _wall(day: datetime) -> str:
    """09:00 on that day in La Paz, as a datetime-local box takes it."""
    return datetime.combine(day.astimezone(LA_PAZ).date(), time(9, 0)).strftime("%Y-%m-%dT%H:%M")


async def test_a_follow_up_moves_to_another_day_and_another_owner(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Rash not clearing after two weeks?")
            fu = await plan_follow_up(
                c, h["clinician"], case_id, prog.people["clinician"]["id"], "Review the rash"
            )
        ctx, page = await case_page(
            b, base, prog.email("clinician"), case_id, timezone_id="America/La_Paz"
        )
        item = page.locator(f"#followup-{fu['id']}")
        await item.get_by_text("Change the date or who does it").click()
        when = item.locator(f"#fu-when-{fu['id']}")
        planned = datetime.fromisoformat(fu["due_at"]).astimezone(LA_PAZ)
        assert await when.input_value() == planned.strftime("%Y-%m-%dT%H:%M")

        # A day already past is refused beside the box, and nothing changes.
        await when.fill(_wall(utcnow() - timedelta(days=2)))
        await item.get_by_role("button", name="Save the new plan").click()
        await item.locator(".field-error", has_text="must not be in the past").wait_for()
        assert await when.get_attribute("aria-invalid") == "true"

        later = utcnow() + timedelta(days=5)
        await when.fill(_wall(later))
        await item.locator(f"#fu-whom-{fu['id']}").select_option(label="Dr Ana Ruiz (Specialist)")
        await item.get_by_role("button", name="Save the new plan").click()
        said = await status_says(page, "Review the rash", "now due")
        assert said.endswith("to be done by: Dr Ana Ruiz (Specialist).")
        item = page.locator(f"#followup-{fu['id']}")
        await item.get_by_text("Who: Dr Ana Ruiz (Specialist)").wait_for()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/follow-ups/{fu['id']}", headers=h["clinician"])
        moved = r.json()
        expected = datetime.combine(later.astimezone(LA_PAZ).date(), time(9, 0), LA_PAZ)
        assert datetime.fromisoformat(moved["due_at"]) == expected.astimezone(UTC)
        assert moved["assignee_id"] == prog.people["specialist"]["id"]
        assert moved["status"] == "open" and moved["version"] == 2

        # The case's record tells the move, in her time, and to whom it was handed on.
        line = page.locator("#record-list li[data-type=follow_up_moved]")
        await line.get_by_text("Dr Ana Ruiz").wait_for()
        text = await line.inner_text()
        assert text.count("Follow-up planned again") == 1 and "Review the rash" in text
        assert "handed on" in text and "after it fell due" not in text
        assert later.astimezone(LA_PAZ).strftime("%-d") in text.split("now due", 1)[1]
        await ctx.close()
