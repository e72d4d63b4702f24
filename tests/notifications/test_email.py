"""Email end to end against a real SMTP server on 127.0.0.1 (aiosmtpd): a specialist with no
socket open gets the offer by email and accepts through its link; retries keep the
Message-ID; a crash between send and mark sends once more with the same Message-ID."""

import re
from datetime import timedelta
from pathlib import Path

from prometheus_client import REGISTRY

from app.core.config import get_settings
from app.core.principal import Role
from app.notifications import sender
from tests.notifications.support import API, SmtpSink, deliveries, send_all, text_of
from tests.specialists.support import make_specialist


async def _offer(client, factory, **case_kw):
    org = await factory.make_org(country="KE")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await make_specialist(factory, languages=["en"])
    case = await factory.make_case(org.id, languages=["en"], **case_kw)
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"auto": True, "count": 1},
        headers=factory.headers(clin),
    )
    assert r.status_code == 201, r.text
    [offer] = r.json()["items"]
    assert offer["specialist_id"] == spec.id
    return case, spec, offer


async def test_offer_reaches_a_specialist_by_email_who_accepts_through_the_link(
    client, factory, smtp
):
    case, spec, offer = await _offer(client, factory, urgency="urgent")
    assert smtp.messages == []  # nothing left the process during the request
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    assert mail["Message-ID"] == (await deliveries(user_id=spec.id))[0].message_id
    assert "Dermatology" in mail["Subject"] and "urgent" in mail["Subject"]
    assert "(Kenya)" in mail["Subject"]  # the facility's country, by its name
    body = text_of(mail)
    html = text_of(mail, "html")
    # The minimum necessary: no patient reference, no clinical text, anywhere.
    for secret in (case.patient_reference, case.question, case.summary, "forearms"):
        assert secret not in mail.as_string() and secret not in html
    link = re.search(r"https://consult\.example\.org/offers/(\S+)", body)
    assert link and link.group(1) == offer["id"]

    r = await client.post(f"{API}/offers/{link.group(1)}/accept", headers=factory.headers(spec))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"

    # The same offer is in the in-app list, unread until read.
    h = factory.headers(spec)
    unread = (await client.get(f"{API}/notifications", params={"unread": "true"}, headers=h)).json()
    [n] = unread["items"]
    assert n["kind"] == "offer" and n["link"].endswith(offer["id"]) and n["read_at"] is None
    assert case.patient_reference not in n["subject"]
    r = await client.post(f"{API}/notifications/{n['id']}/read", headers=h)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    r = await client.get(f"{API}/notifications", params={"unread": "true"}, headers=h)
    assert r.json()["items"] == []
    assert len((await client.get(f"{API}/notifications", headers=h)).json()["items"]) == 1


async def test_read_all_and_nobody_reads_anothers(client, factory, smtp):
    _, spec, _ = await _offer(client, factory)
    other = await factory.make_user(Role.specialist)
    [n] = (await client.get(f"{API}/notifications", headers=factory.headers(spec))).json()["items"]
    r = await client.post(f"{API}/notifications/{n['id']}/read", headers=factory.headers(other))
    assert r.status_code == 404
    assert (await client.get(f"{API}/notifications", headers=factory.headers(other))).json()[
        "items"
    ] == []
    r = await client.post(f"{API}/notifications/read-all", headers=factory.headers(spec))
    assert r.status_code == 200 and r.json() == {"marked": 1}
    r = await client.get(
        f"{API}/notifications", params={"unread": "true"}, headers=factory.headers(spec)
    )
    assert r.json()["items"] == []


def _count(channel: str, outcome: str) -> float:
    v = REGISTRY.get_sample_value(
        "notification_deliveries_total", {"channel": channel, "outcome": outcome}
    )
    return v or 0.0


async def test_a_temporary_refusal_is_retried_with_backoff_and_the_same_message_id(
    client, factory, smtp, clock
):
    _, spec, _ = await _offer(client, factory)
    smtp.reply = "451 4.3.0 Try again later"
    assert await send_all() == 1
    [d] = await deliveries(user_id=spec.id)
    assert (d.status, d.attempts) == ("pending", 1) and "451" in d.last_error
    assert timedelta(seconds=29) < d.next_attempt_at - clock.now() <= timedelta(seconds=30)
    assert await send_all() == 0  # not before its time
    smtp.reply = None
    clock.advance(timedelta(seconds=31))
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    [d] = await deliveries(user_id=spec.id)
    assert (d.status, d.attempts) == ("sent", 2) and mail["Message-ID"] == d.message_id


async def test_a_permanent_refusal_fails_once_is_counted_and_shown_to_admins(client, factory, smtp):
    _, spec, _ = await _offer(client, factory)
    before = _count("email", "failed")
    smtp.reply = "550 5.1.1 No such mailbox"
    assert await send_all() == 1
    [d] = await deliveries(user_id=spec.id)
    assert d.status == "failed" and "550" in d.last_error
    assert _count("email", "failed") == before + 1
    smtp.reply = None
    assert await send_all() == 0 and smtp.messages == []
    admin = await factory.make_user(Role.admin)
    r = await client.get(f"{API}/notification-deliveries", headers=factory.headers(admin))
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [d.id]
    # Failed for good: nothing more is tried, so no next attempt is named.
    assert r.json()["items"][0]["next_attempt_at"] is None
    r = await client.get(f"{API}/notification-deliveries", headers=factory.headers(spec))
    assert r.status_code == 403


async def test_a_crash_between_send_and_mark_resends_with_the_same_message_id(
    client, factory, smtp, clock, monkeypatch
):
    _, spec, _ = await _offer(client, factory)

    async def crash(*args, **kwargs):
        raise SystemExit("killed after the SMTP server accepted, before marking")

    with monkeypatch.context() as m:
        m.setattr(sender, "_mark", crash)
        try:
            await sender.send_due()
        except SystemExit:
            pass
    [first] = smtp.to(spec.email)
    [d] = await deliveries(user_id=spec.id)
    assert d.status == "sending"  # the process died holding it
    assert await send_all() == 0  # its lease still holds
    clock.advance(timedelta(seconds=get_settings().notify_lease_seconds + 1))
    assert await send_all() == 1
    again = smtp.to(spec.email)
    assert len(again) == 2 and again[1]["Message-ID"] == first["Message-ID"]
    [d] = await deliveries(user_id=spec.id)
    assert (d.status, d.attempts) == ("sent", 2)


async def test_smtp_down_is_temporary(client, factory, smtp, clock):
    _, spec, _ = await _offer(client, factory)
    smtp.controller.stop()
    assert await send_all() == 1
    [d] = await deliveries(user_id=spec.id)
    assert d.status == "pending" and d.last_error.startswith("connect")
    back = SmtpSink(port=smtp.port)  # the server comes back
    back.controller.start()
    try:
        clock.advance(timedelta(seconds=31))
        assert await send_all() == 1
        [mail] = back.to(spec.email)
        assert mail["Message-ID"] == d.message_id
    finally:
        back.controller.stop()


async def test_without_smtp_url_each_email_is_an_eml_file(client, factory, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    _, spec, _ = await _offer(client, factory)
    assert await send_all() == 1
    [d] = await deliveries(user_id=spec.id)
    path = (
        Path(get_settings().data_dir)
        / "mail"
        / (d.message_id.strip("<>").replace("@", "_at_") + ".eml")
    )
    text = path.read_text()
    assert f"Message-ID: {d.message_id}" in text and f"To: {spec.email}" in text
    assert d.status == "sent"


async def test_follow_up_due_then_overdue_reaches_its_assignee_in_their_language(
    client, factory, smtp, clock
):
    from app.followups.jobs import followups_due
    from tests.followups.test_followups import _follow_up
    from tests.notes.helpers import note_world

    w = await note_world(factory)
    h = factory.headers(w.clinician)
    r = await client.put(f"{API}/me/notification-preferences", json={"language": "es"}, headers=h)
    assert r.status_code == 200, r.text
    fu = await _follow_up(client, factory, w, hours=1)
    assert await send_all() == 1  # planned for her by the specialist: given to her
    clock.advance(timedelta(hours=2))
    await followups_due()
    assert await send_all() == 1
    clock.advance(timedelta(hours=get_settings().followup_overdue_hours))
    await followups_due()
    await followups_due()
    assert await send_all() == 1
    given, due, overdue = smtp.to(w.clinician.email)
    assert given["Subject"] == "Un seguimiento queda a su cargo"
    assert due["Subject"] == "Hay un seguimiento pendiente"
    assert overdue["Subject"] == "Un seguimiento está vencido"
    body = text_of(overdue)
    assert "sigue abierto" in body and f"/follow-ups/{fu['id']}" in body
    for mail in (given, due, overdue):  # the description is clinical text: never in an email
        assert "Review the rash" not in mail.as_string()
    kinds = (await client.get(f"{API}/notifications", headers=h)).json()["items"]
    assert sorted(n["kind"] for n in kinds) == [
        "followup_assigned",
        "followup_due",
        "followup_overdue",
    ]


def test_one_persons_mails_share_a_connection_in_the_order_written(monkeypatch):
    """A batch goes out over several connections at once; each person's mails stay on one
    of them, in order, so a warning never lands after the notice that follows it."""
    from app.notifications.channels.email import Mail, _lanes

    monkeypatch.setattr(get_settings(), "smtp_connections", 3)
    order = ["a@x.org", "b@x.org", "A@x.org", "c@x.org", "d@x.org", "a@x.org", "b@x.org"]
    mails = [Mail(f"d{i}", f"m{i}", to, f"s{i}", "t", "h") for i, to in enumerate(order)]
    lanes = _lanes(mails)
    assert len(lanes) == 3 and sorted(m.delivery_id for lane in lanes for m in lane) == sorted(
        m.delivery_id for m in mails
    )
    for lane in lanes:
        for person in {m.to.lower() for m in lane}:
            mine = [m.delivery_id for m in mails if m.to.lower() == person]
            assert [m.delivery_id for m in lane if m.to.lower() == person] == mine
    assert _lanes(mails[:1]) == [mails[:1]]


async def test_a_persons_mails_go_out_in_the_order_they_were_written(factory, smtp, clock):
    """The batch is sent in the order its notices were written, whatever order the database
    hands the claimed rows back in (on PostgreSQL a case's "past its deadline" once arrived
    before the "without a specialist" written two hours earlier)."""
    from sqlalchemy import update

    from app.core.db import unit_of_work
    from app.notifications.kinds import Kind
    from app.notifications.listeners import case_facts
    from app.notifications.models import Delivery
    from app.notifications.service import notify

    org = await factory.make_org(country="MW")
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id)
    for kind in (Kind.case_unmatched, Kind.case_overdue):
        async with unit_of_work() as s:
            _, facts = await case_facts(s, case.id)
            assert await notify(s, coord.id, kind, data=facts, link="/x", case_id=case.id)
        clock.advance(timedelta(hours=2))
    first, second = await deliveries(user_id=coord.id)
    assert first.template == "case_unmatched"
    async with unit_of_work() as s:  # ids that do not follow the order written
        await s.execute(update(Delivery).where(Delivery.id == first.id).values(id="dlv_zzzz"))
        await s.execute(update(Delivery).where(Delivery.id == second.id).values(id="dlv_0000"))
    assert await send_all() == 2
    assert [m["Subject"].split(":")[0] for m in smtp.to(coord.email)] == [
        "Case without a specialist",
        "Case past its deadline",
    ]


async def test_notices_held_to_one_time_go_in_the_order_written_across_batches(
    factory, smtp, clock
):
    """Notices held to the same moment (quiet hours ending) and more than a batch: each
    batch takes the earliest written, so the later never overtakes the earlier."""
    from sqlalchemy import update

    from app.core.db import unit_of_work
    from app.notifications.kinds import Kind
    from app.notifications.listeners import case_facts
    from app.notifications.models import Delivery
    from app.notifications.service import notify

    org = await factory.make_org(country="MW")
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id)
    for kind in (Kind.case_unmatched, Kind.case_overdue):
        async with unit_of_work() as s:
            _, facts = await case_facts(s, case.id)
            assert await notify(s, coord.id, kind, data=facts, link="/x", case_id=case.id)
        clock.advance(timedelta(hours=1))
    first, second = await deliveries(user_id=coord.id)
    held_to = clock.now()
    async with unit_of_work() as s:  # both held to one time; ids against the order written
        await s.execute(update(Delivery).values(next_attempt_at=held_to))
        await s.execute(update(Delivery).where(Delivery.id == first.id).values(id="dlv_zzzz"))
        await s.execute(update(Delivery).where(Delivery.id == second.id).values(id="dlv_0000"))
    assert await sender.send_due(limit=1) == 1
    assert await sender.send_due(limit=1) == 1
    assert [m["Subject"].split(":")[0] for m in smtp.to(coord.email)] == [
        "Case without a specialist",
        "Case past its deadline",
    ]
