"""The demo programme `make run` loads: it loads, and a new user finds care after a consult
in it (a signed note to read, follow-ups late and coming), read through the API as the
console reads it."""

from sqlalchemy import select
from sqlmodel import col

from app.auth.models import User
from app.bootstrap import load_demo


async def test_the_demo_has_an_answered_case_with_its_note_and_follow_ups(app, db, client, factory):
    logins = await load_demo(db)
    assert ("clinician.gonaives@demo.org", "clinician") in logins
    people = {
        u.email: factory.headers(u)
        for u in await db.scalars(select(User).where(col(User.email).like("%@demo.org")))
    }
    await db.commit()  # and lets go of SQLite's one connection for the requests below
    clinician = people["clinician.gonaives@demo.org"]

    late = (await client.get("/api/v1/follow-ups?overdue=true", headers=clinician)).json()
    coming = (
        await client.get("/api/v1/follow-ups?status=open&overdue=false", headers=clinician)
    ).json()
    assert [f["overdue"] for f in late["items"]] == [True], late
    assert [f["overdue"] for f in coming["items"]] == [False], coming
    case_id = late["items"][0]["case_id"]
    assert coming["items"][0]["case_id"] == case_id

    case = (await client.get(f"/api/v1/cases/{case_id}", headers=clinician)).json()
    assert case["status"] == "answered", case
    record = (await client.get(f"/api/v1/cases/{case_id}/record", headers=clinician)).json()
    notes = [e for e in record["entries"] if e["type"] == "note"]
    assert len(notes) == 1, record
    note = (await client.get(f"/api/v1/notes/{notes[0]['id']}", headers=clinician)).json()
    assert note["status"] == "signed" and note["acknowledged_at"] is None, note
    versions = (await client.get(f"/api/v1/notes/{note['id']}/versions", headers=clinician)).json()
    assert [v["status"] for v in versions["items"]] == ["draft", "signed"], versions

    # The specialist who answered it sees the same follow-ups; another facility's clinician
    # sees none of it.
    dubois = people["marie.dubois@demo.org"]
    hers = (await client.get(f"/api/v1/follow-ups?case_id={case_id}", headers=dubois)).json()
    assert len(hers["items"]) == 2, hers
    salta = people["clinician.salta@demo.org"]
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=salta)).status_code == 404
    assert (await client.get("/api/v1/follow-ups", headers=salta)).json()["items"] == []
