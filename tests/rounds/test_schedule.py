"""Series, occurrences across daylight-saving changes, exceptions, splits and bad input."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.rounds.support import API, make_round


@pytest.fixture
async def ny(factory):
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    coord = await factory.make_user(Role.coordinator)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    return org, coord, clin


def _body(org_id: str, **kw):
    body = {
        "title": "Dermatology rounds",
        "host_organization_id": org_id,
        "starts_at_local": "2026-10-20T09:00",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "specialty": "dermatology",
        "teaching_topic": "Rashes",
        "join_url": "https://meet.example.org/derm",
    }
    body.update(kw)
    return body


async def test_weekly_in_new_york_keeps_its_wall_time_across_november_change(client, factory, ny):
    org, _coord, clin = ny
    h = factory.headers(clin)
    r = await client.post(f"{API}/rounds", json=_body(org.id), headers=h)
    assert r.status_code == 201, r.text
    rnd = r.json()
    assert rnd["timezone"] == "America/New_York"  # the host's zone when none is given
    assert rnd["starts_at"] == "2026-10-20T13:00:00Z"
    assert r.headers["ETag"]
    r = await client.get(
        f"{API}/rounds/{rnd['id']}/occurrences",
        headers=h,
        params={"from": "2026-10-19T00:00:00Z", "to": "2026-11-12T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [o["start"] for o in items] == [
        "2026-10-20T13:00:00Z",
        "2026-10-27T13:00:00Z",  # EDT, UTC-4
        "2026-11-03T14:00:00Z",
        "2026-11-10T14:00:00Z",
    ]  # EST, UTC-5 after 1 November
    assert [o["start_local"] for o in items] == [
        "2026-10-20T09:00",
        "2026-10-27T09:00",
        "2026-11-03T09:00",
        "2026-11-10T09:00",
    ]
    assert all(o["end_local"].endswith("T10:00") for o in items)
    # Paging through the window gives the same occurrences, in order.
    r1 = await client.get(
        f"{API}/rounds/{rnd['id']}/occurrences",
        headers=h,
        params={"from": "2026-10-19T00:00:00Z", "to": "2026-11-12T00:00:00Z", "limit": 3},
    )
    assert [o["start"] for o in r1.json()["items"]] == [o["start"] for o in items[:3]]
    r2 = await client.get(
        f"{API}/rounds/{rnd['id']}/occurrences",
        headers=h,
        params={
            "from": "2026-10-19T00:00:00Z",
            "to": "2026-11-12T00:00:00Z",
            "limit": 3,
            "cursor": r1.json()["next_cursor"],
        },
    )
    assert [o["start"] for o in r2.json()["items"]] == [items[3]["start"]]
    assert r2.json()["next_cursor"] is None


async def test_monthly_on_the_last_friday(client, factory, ny):
    org, coord, _ = ny
    h = factory.headers(coord)
    r = await client.post(
        f"{API}/rounds",
        headers=h,
        json=_body(
            org.id,
            timezone="Africa/Nairobi",
            starts_at_local="2026-10-01T16:00",
            rrule="FREQ=MONTHLY;BYDAY=-1FR",
        ),
    )
    assert r.status_code == 201, r.text
    rnd = r.json()
    # The series starts at its first real occurrence, the last Friday of October.
    assert rnd["starts_at_local"] == "2026-10-30T16:00"
    r = await client.get(
        f"{API}/rounds/{rnd['id']}/occurrences",
        headers=h,
        params={"from": "2026-10-01T00:00:00Z", "to": "2027-03-01T00:00:00Z"},
    )
    assert [o["start_local"] for o in r.json()["items"]] == [
        "2026-10-30T16:00",
        "2026-11-27T16:00",
        "2026-12-25T16:00",
        "2027-01-29T16:00",
        "2027-02-26T16:00",
    ]
    assert r.json()["items"][0]["start"] == "2026-10-30T13:00:00Z"  # Nairobi is UTC+3


async def test_cancel_one_occurrence_leaves_the_rest(client, factory, db, ny):
    org, _coord, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-10-20T09:00")
    window = {"from": "2026-10-19T00:00:00Z", "to": "2026-11-18T00:00:00Z"}
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-03T14:00:00Z/cancel",
        headers=h,
        json={"reason": "Public holiday"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["cancelled"] is True
    r = await client.get(f"{API}/rounds/{rnd.id}/occurrences", headers=h, params=window)
    assert [o["start"] for o in r.json()["items"]] == [
        "2026-10-20T13:00:00Z",
        "2026-10-27T13:00:00Z",
        "2026-11-10T14:00:00Z",
        "2026-11-17T14:00:00Z",
    ]
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences",
        headers=h,
        params={**window, "include_cancelled": "true"},
    )
    flagged = [o for o in r.json()["items"] if o["cancelled"]]
    assert [o["start"] for o in flagged] == ["2026-11-03T14:00:00Z"]
    # Cancelling twice is harmless; a time that is not an occurrence is 404.
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-03T14:00:00Z/cancel", headers=h
    )
    assert r.status_code == 200
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-03T15:00:00Z/cancel", headers=h
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    ev = (
        (
            await db.execute(
                select(OutboxEvent).where(
                    OutboxEvent.type == "round.updated", OutboxEvent.resource_id == rnd.id
                )
            )
        )
        .scalars()
        .all()
    )
    assert [e.payload["change"] for e in ev] == ["occurrence_cancelled"]
    assert ev[0].organization_id == org.id


async def test_move_one_occurrence(client, factory, ny):
    org, _coord, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-10-20T09:00")
    r = await client.patch(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-10T14:00:00Z",
        headers=h,
        json={"starts_at_local": "2026-11-12T10:30"},
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["start"] == "2026-11-12T15:30:00Z"
    assert moved["original_start"] == "2026-11-10T14:00:00Z"
    assert moved["moved"] is True and moved["start_local"] == "2026-11-12T10:30"
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences",
        headers=h,
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-20T00:00:00Z"},
    )
    assert [(o["start"], o["moved"]) for o in r.json()["items"]] == [
        ("2026-11-03T14:00:00Z", False),
        ("2026-11-12T15:30:00Z", True),
        ("2026-11-17T14:00:00Z", False),
    ]
    # The moved occurrence answers to its new start too.
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-12T15:30:00Z/agenda", headers=h
    )
    assert r.status_code == 200
    # Onto another occurrence's slot: 409. Onto a skipped wall time: 422.
    r = await client.patch(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-03T14:00:00Z",
        headers=h,
        json={"starts_at_local": "2026-11-17T09:00"},
    )
    assert r.status_code == 409
    r = await client.patch(
        f"{API}/rounds/{rnd.id}/occurrences/2026-11-03T14:00:00Z",
        headers=h,
        json={"starts_at_local": "2027-03-14T02:30"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/starts_at_local"


@pytest.mark.parametrize(
    ("field", "value", "pointer", "words"),
    [
        ("rrule", "FREQ=SOMETIMES", "/rrule", "FREQ"),
        ("rrule", "BYDAY=TU", "/rrule", "FREQ is required"),
        ("rrule", "FREQ=WEEKLY;BYDAY=XX", "/rrule", "BYDAY"),
        ("rrule", "FREQ=HOURLY", "/rrule", "at most daily"),
        ("rrule", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "/rrule", "no occurrence"),
        ("rrule", "FREQ=WEEKLY;UNTIL=20270101T000000", "/rrule", "UTC"),
        ("rrule", "DTSTART:20261020T090000\nRRULE:FREQ=WEEKLY", "/rrule", "one RRULE"),
        ("timezone", "Mars/Olympus_Mons", "/timezone", "unknown IANA time zone"),
        ("starts_at_local", "2027-03-14T02:30", "/starts_at_local", "does not exist"),
        ("starts_at_local", "2027-02-30T09:00", "/starts_at_local", "YYYY-MM-DDTHH:MM"),
    ],
)
async def test_bad_schedules_are_clear_422s(client, factory, ny, field, value, pointer, words):
    org, coord, _ = ny
    body = _body(org.id, timezone="America/New_York", rrule="FREQ=WEEKLY;BYDAY=SU")
    body[field] = value
    r = await client.post(f"{API}/rounds", headers=factory.headers(coord), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["type"].startswith("https://")
    assert problem["errors"][0]["pointer"] == pointer
    assert words in problem["errors"][0]["detail"] or words in problem["detail"]


async def test_who_may_schedule(client, factory, ny):
    org, _, _ = ny
    other = await factory.make_org(name="Elsewhere")
    clin_other = await factory.make_user(Role.clinician, organization_id=other.id)
    spec = await factory.make_user(Role.specialist)
    reader = await factory.make_client(org.id, scopes=["rounds:read"])
    writer = await factory.make_client(org.id, scopes=["rounds:write", "rounds:read"])
    for who, status in ((clin_other, 403), (spec, 403), (reader, 403), (writer, 201)):
        r = await client.post(f"{API}/rounds", headers=factory.headers(who), json=_body(org.id))
        assert r.status_code == status, (who, r.text)
    r = await client.post(f"{API}/rounds", json=_body(org.id))
    assert r.status_code == 401


async def test_lists_follow_the_visibility_rule(client, factory, ny):
    org, coord, clin = ny
    other = await factory.make_org(name="Elsewhere")
    spec = await factory.make_user(Role.specialist)
    clin_other = await factory.make_user(Role.clinician, organization_id=other.id)
    mine = await make_round(org.id, participants=[(spec.id, "specialist")])
    theirs = await make_round(other.id)
    cases_only = await factory.make_client(org.id, scopes=["cases:read"])

    async def ids(who):
        r = await client.get(f"{API}/rounds", headers=factory.headers(who))
        assert r.status_code == 200, r.text
        return {x["id"] for x in r.json()["items"]}

    assert await ids(coord) == {mine.id, theirs.id}
    assert await ids(clin) == {mine.id}
    assert await ids(clin_other) == {theirs.id}
    assert await ids(spec) == {mine.id}
    r = await client.get(f"{API}/rounds", headers=factory.headers(cases_only))
    assert r.status_code == 403


async def test_descriptive_edit_in_place_and_if_match(client, factory, ny):
    org, _, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id)
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    tag = r.headers["ETag"]
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers={**h, "If-Match": tag},
        json={"title": "Skin rounds", "join_url": "https://meet.example.org/x"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rnd.id and r.json()["title"] == "Skin rounds"
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers={**h, "If-Match": tag}, json={"title": "Stale"}
    )
    assert r.status_code == 412
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json={"titel": "typo"})
    assert r.status_code == 422


async def test_editing_from_a_date_splits_without_rewriting_the_past(client, factory, db, ny):
    org, _, clin = ny
    h = factory.headers(clin)
    spec = await factory.make_user(Role.specialist)
    rnd = await make_round(
        org.id, starts_at_local="2026-10-06T09:00", participants=[(spec.id, "specialist")]
    )
    case = await factory.make_case(org.id)
    # On the agenda of 8 December, which the new schedule moves to 10:00.
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-08T14:00:00Z/agenda",
        headers=h,
        json={"case_id": case.id, "presenter_id": clin.id},
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"starts_at_local": "2026-12-01T10:00", "effective_from": "2026-12-01T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != rnd.id and new["previous_series_id"] == rnd.id
    assert new["starts_at"] == "2026-12-01T15:00:00Z"
    old = (await client.get(f"{API}/rounds/{rnd.id}", headers=h)).json()
    assert old["next_series_id"] == new["id"]
    assert "UNTIL=20261124T140000Z" in old["rrule"]
    # The past is as it was: every October and November Tuesday at 09:00.
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences",
        headers=h,
        params={"from": "2026-10-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
    )
    starts = [o["start_local"] for o in r.json()["items"]]
    assert starts[0] == "2026-10-06T09:00" and starts[-1] == "2026-11-24T09:00"
    assert len(starts) == 8
    r = await client.get(
        f"{API}/rounds/{new['id']}/occurrences",
        headers=h,
        params={"from": "2026-10-01T00:00:00Z", "to": "2026-12-16T00:00:00Z"},
    )
    assert [o["start_local"] for o in r.json()["items"]] == [
        "2026-12-01T10:00",
        "2026-12-08T10:00",
        "2026-12-15T10:00",
    ]
    # Participants and the waiting agenda came along.
    r = await client.get(f"{API}/rounds/{new['id']}/participants", headers=h)
    assert [p["user_id"] for p in r.json()["items"]] == [spec.id]
    r = await client.get(
        f"{API}/rounds/{new['id']}/occurrences/2026-12-08T15:00:00Z/agenda", headers=h
    )
    assert [i["case_id"] for i in r.json()["items"]] == [case.id]
    changes = (
        await db.execute(
            select(OutboxEvent.resource_id, OutboxEvent.type).where(
                OutboxEvent.type == "round.updated"
            )
        )
    ).all()
    assert {(rnd.id, "round.updated"), (new["id"], "round.updated")} <= set(changes)


async def test_a_series_that_has_not_begun_is_edited_in_place(client, factory, ny):
    org, _, clin = ny
    h = factory.headers(clin)
    start = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT09:00")
    rnd = await make_round(org.id, starts_at_local=start, rrule="FREQ=DAILY;COUNT=3")
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"rrule": "FREQ=DAILY;COUNT=5", "duration_minutes": 90},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rnd.id and r.json()["duration_minutes"] == 90
    assert r.json()["next_series_id"] is None


async def test_delete(client, factory, ny):
    org, coord, clin = ny
    rnd = await make_round(org.id)
    r = await client.delete(f"{API}/rounds/{rnd.id}", headers=factory.headers(clin))
    assert r.status_code == 204
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=factory.headers(coord))
    assert r.status_code == 404


async def test_an_occurrence_on_a_skipped_wall_time_starts_when_the_clocks_resume(
    client, factory, ny
):
    org, coord, _ = ny
    h = factory.headers(coord)
    r = await client.post(
        f"{API}/rounds",
        headers=h,
        json=_body(
            org.id, starts_at_local="2027-03-07T02:30", rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=3"
        ),
    )
    assert r.status_code == 201, r.text
    r = await client.get(
        f"{API}/rounds/{r.json()['id']}/occurrences",
        headers=h,
        params={"from": "2027-03-01T00:00:00Z", "to": "2027-04-01T00:00:00Z"},
    )
    items = r.json()["items"]
    # 14 March has no 02:30; that occurrence begins at 03:30 EDT, the same UTC instant
    # 02:30 EST would have been. The series keeps 02:30 on the other Sundays.
    assert [(o["start"], o["start_local"]) for o in items] == [
        ("2027-03-07T07:30:00Z", "2027-03-07T02:30"),
        ("2027-03-14T07:30:00Z", "2027-03-14T03:30"),
        ("2027-03-21T06:30:00Z", "2027-03-21T02:30"),
    ]
    assert r.status_code == 200


async def test_occurrence_windows_need_zoned_times(client, factory, ny):
    org, coord, _ = ny
    rnd = await make_round(org.id)
    h = factory.headers(coord)
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences", headers=h, params={"from": "2026-10-01T00:00:00"}
    )
    assert r.status_code == 422
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences",
        headers=h,
        params={"from": "2026-10-01T00:00:00Z", "to": "2026-09-01T00:00:00Z"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/to"


async def test_clearing_the_join_url(client, factory, ny):
    org, _, clin = ny
    rnd = await make_round(org.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=factory.headers(clin), json={"join_url": None}
    )
    assert r.status_code == 200 and r.json()["join_url"] is None


async def test_splitting_a_counted_series_keeps_the_count(client, factory, ny):
    org, _, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(
        org.id, starts_at_local="2026-10-06T09:00", rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=10"
    )
    # Four were held in October; six are left when the title changes from 1 November on.
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"title": "Skin rounds", "effective_from": "2026-11-01T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != rnd.id and new["title"] == "Skin rounds"
    assert "COUNT=6" in new["rrule"]
    r = await client.get(
        f"{API}/rounds/{new['id']}/occurrences",
        headers=h,
        params={"from": "2026-10-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"},
    )
    assert [o["start_local"][:10] for o in r.json()["items"]] == [
        "2026-11-03",
        "2026-11-10",
        "2026-11-17",
        "2026-11-24",
        "2026-12-01",
        "2026-12-08",
    ]
    old = (await client.get(f"{API}/rounds/{rnd.id}", headers=h)).json()
    assert old["title"] == "Dermatology rounds"  # the past keeps its name
    assert old["ends_at"] == "2026-10-27T14:00:00Z"


async def test_a_current_copy_is_not_sent_again(client, factory, ny):
    org, _, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id)
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    tag = r.headers["ETag"]
    assert tag == '"1"'
    r = await client.get(f"{API}/rounds/{rnd.id}", headers={**h, "If-None-Match": tag})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == tag
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json={"title": "Skin rounds"})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = await client.get(f"{API}/rounds/{rnd.id}", headers={**h, "If-None-Match": tag})
    assert r.status_code == 200 and r.json()["title"] == "Skin rounds"
    assert r.headers["ETag"] == '"2"'


async def test_a_client_without_the_rounds_scopes_is_refused_by_scope(client, factory, ny):
    org, _, _ = ny
    rnd = await make_round(org.id)
    cases_only = factory.headers(await factory.make_client(org.id, scopes=["cases:read"]))
    reader = factory.headers(await factory.make_client(org.id, scopes=["rounds:read"]))
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=cases_only)
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=reader, json={"title": "x"})
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    r = await client.post(f"{API}/rounds", headers=reader, json=_body(org.id))
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
