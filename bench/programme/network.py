"""Building the programme's network through the public API, as its admin would."""

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

from bench.programme.clients import Api
from bench.programme.model import (
    INTERPRETERS,
    Facility,
    Params,
    Specialist,
    facilities,
    specialists,
)

PASSWORD = "programme-password-1"
ROUND_SPECIALTIES = {
    "kisumu": "pediatrics",
    "kabul": "obstetrics_gynecology",
    "coxsbazar": "infectious_disease",
    "salta": "dermatology",
}


class Network:
    def __init__(self) -> None:
        self.admin = ""
        self.facilities: list[Facility] = []
        self.specialists: list[Specialist] = []
        self.interpreters: list[tuple[str, list[str]]] = []  # (user id, languages)
        self.rounds: list[dict[str, Any]] = []  # {"id", "facility", "starts": [datetime]}
        self.clinician_org: dict[str, Facility] = {}


async def _gather(coros: list[Any], limit: int = 8) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return list(await asyncio.gather(*(one(c) for c in coros)))


async def _user(api: Api, admin: str, email: str, name: str, role: str, org: str | None) -> str:
    body = {"email": email, "name": name, "role": role, "password": PASSWORD}
    if org:
        body["organization_id"] = org
    r = await api.call(admin, "POST", "/users", json=body)
    uid = str(r.json()["id"])
    await api.sign_in(uid, email, PASSWORD)
    return uid


async def build(
    api: Api, p: Params, start: datetime, admin_email: str, admin_password: str
) -> Network:
    rnd = random.Random(p.seed)
    net = Network()
    r = await api.http.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": admin_email, "password": admin_password},
    )
    r.raise_for_status()
    net.admin = "admin"
    api.tokens["admin"] = r.json()["access_token"]
    net.facilities = facilities()
    for f in net.facilities:
        body = {
            "name": f.name,
            "country": f.country,
            "timezone": f.zone,
            "languages": f.languages,
            "local_resources": {"text": ", ".join(f.tags), "tags": f.tags},
        }
        f.id = str((await api.call("admin", "POST", "/organizations", json=body)).json()["id"])

    async def clinician(f: Facility, k: int) -> None:
        uid = await _user(
            api, "admin", f"clinician{k}.{f.key}@programme.example.org",
            f"Clinician {k} at {f.name}", "clinician", f.id,
        )  # fmt: skip
        f.clinicians.append(uid)
        net.clinician_org[uid] = f

    await _gather([clinician(f, k) for f in net.facilities for k in range(2)])
    net.specialists = specialists(p, start, rnd)

    async def specialist(sp: Specialist) -> None:
        sp.id = await _user(api, "admin", sp.email, sp.name, "specialist", None)
        profile = {
            "specialties": sp.specialties,
            "languages": sp.languages,
            "timezone": sp.zone,
            "availability": sp.windows,
            "time_off": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in sp.leave],
            "max_active_cases": sp.max_active,
            "accepting": True,
            "verified": True,
        }
        await api.call("admin", "PUT", f"/specialists/{sp.id}/profile", json=profile)
        if not p.notifications:
            # The what-if: nobody is emailed offers; they find them in their inbox.
            quiet = {"channels": {"offer": ["in_app"], "offer_expiring": ["in_app"]}}
            await api.call(sp.id, "PUT", "/me/notification-preferences", json=quiet)

    await _gather([specialist(sp) for sp in net.specialists])
    if p.interpreters:
        for k, (name, langs) in enumerate(INTERPRETERS):
            email = f"interpreter{k}@programme.example.org"
            uid = await _user(api, "admin", email, name, "interpreter", None)
            net.interpreters.append((uid, langs))
    await _rounds(api, net, p, start)
    return net


async def _rounds(api: Api, net: Network, p: Params, start: datetime) -> None:
    """A weekly teaching round at four facilities, Tuesdays 14:00 local, with their
    clinicians and two specialists of the round's specialty as participants."""
    by_key = {f.key: f for f in net.facilities}
    end = start + timedelta(weeks=p.weeks)
    for key, specialty in ROUND_SPECIALTIES.items():
        f = by_key[key]
        first = start.date() + timedelta(days=(1 - start.weekday()) % 7)
        body = {
            "title": f"{f.name}: weekly {specialty.replace('_', ' ')} round",
            "host_organization_id": f.id,
            "timezone": f.zone,
            "starts_at_local": f"{first.isoformat()}T14:00",
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "specialty": specialty,
            "teaching_topic": "Cases of the week",
        }
        rid = str((await api.call("admin", "POST", "/rounds", json=body)).json()["id"])
        for uid in f.clinicians:
            await api.call(
                "admin", "POST", f"/rounds/{rid}/participants",
                json={"user_id": uid, "role": "local_team"},
            )  # fmt: skip
        experts = [s for s in net.specialists if specialty in s.specialties][:2]
        for s in experts:
            await api.call(
                "admin", "POST", f"/rounds/{rid}/participants",
                json={"user_id": s.id, "role": "specialist", "allow_conflict": True},
            )  # fmt: skip
        starts = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat()}
            if cursor:
                params["cursor"] = cursor
            page = (
                await api.call("admin", "GET", f"/rounds/{rid}/occurrences", params=params)
            ).json()
            items = page["items"] if isinstance(page, dict) else page
            starts += [datetime.fromisoformat(o["start"]) for o in items]
            cursor = page.get("next_cursor") if isinstance(page, dict) else None
            if not cursor:
                break
        net.rounds.append(
            {"id": rid, "facility": f, "starts": starts, "experts": [s.id for s in experts]}
        )
