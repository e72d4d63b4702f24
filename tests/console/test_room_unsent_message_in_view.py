"""A message she sends while the link is down is shown where she is looking: at the end of
the conversation, in view, marked not sent yet. It was added below the list's visible part
and the list did not scroll to it, so on a phone her message seemed to vanish and she typed
it again (a second, different message to the specialist). In a real browser."""

import httpx

from tests.console.support import assigned_case, bearers, in_the_room, seeded_console

IN_VIEW = """(sel) => {
  const li = document.querySelector(sel);
  const list = document.getElementById('messages');
  if (!li) return false;
  const a = li.getBoundingClientRect(), b = list.getBoundingClientRect();
  return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
}"""


async def test_an_unsent_message_is_shown_in_view(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Fever and rash for three days")
            for n in range(30):  # a conversation longer than the phone's screen
                r = await c.post(
                    f"/api/v1/cases/{case_id}/messages",
                    headers=h["specialist" if n % 2 else "clinician"],
                    json={"body": f"Question and answer number {n + 1}.", "client_msg_id": f"m{n}"},
                )
                r.raise_for_status()
        page = await in_the_room(b, base, prog.email("clinician"), case_id)
        await page.wait_for_selector("#messages li[data-seq='30']")
        assert await page.evaluate(IN_VIEW, "#messages li[data-seq='30']")

        await page.context.set_offline(True)
        await page.fill("#message-body", "La madre quiere llevarlo a casa mañana.")
        await page.press("#message-body", "Enter")
        await page.wait_for_selector("#messages li.pending")
        assert await page.evaluate(IN_VIEW, "#messages li.pending"), "her message is out of view"
        await page.context.set_offline(False)
        await page.context.close()
