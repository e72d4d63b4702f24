"""The year itself: events in programme time, each one a person doing something through the
API at the moment the server's clock says it is.

Offers reach simulated specialists the way they reach real ones: by the email the server
sends (read from the folder the server writes mail to when SMTP_URL is unset), or, when
nobody was emailed, in their inbox when they next look (the coordinator's view of pending
offers tells the simulation who has one waiting; the specialist then reads their own inbox).
"""

import asyncio
import heapq
import itertools
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from bench.programme.clients import Api, ApiError
from bench.programme.model import (
    Params,
    Specialist,
    Submission,
    clinic_time,
    in_window,
    lognormal,
    next_window,
    submissions,
)
from bench.programme.network import Network

OFFER_LINK = re.compile(r"/offers/(off_[0-9A-Za-z]+)")
URGENCY = re.compile(r"\b(emergency|urgent|routine)\b")
# The server's default offer lifetimes (OFFER_EXPIRY_MINUTES), by urgency.
EXPIRY = {
    "emergency": timedelta(minutes=10),
    "urgent": timedelta(hours=2),
    "routine": timedelta(hours=12),
}
# A full worker pass (every job: reminders, digests, follow-ups due, the measures' rollup)
# at least this often; matching's jobs pass after every event that needs them.
FULL_PASS = timedelta(hours=24)
# Events this close together go to the server together (at the last one's time).
WINDOW = timedelta(minutes=10)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


@dataclass
class CaseState:
    sub: Submission
    id: str
    clinician: str
    created_at: datetime
    interpreter_needed: bool = False
    specialist: Specialist | None = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    signed_at: datetime | None = None
    note_id: str = ""
    interpreter: str = ""  # user id, once added to the case
    answered_seen: bool = False


@dataclass
class Tally:
    emails_offer: int = 0
    emails_other: int = 0
    offers_seen: int = 0
    accepted: int = 0
    declined: int = 0
    ignored: int = 0
    lost: int = 0  # answered after it had expired or another had taken the case
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Simulation:
    def __init__(self, api: Api, net: Network, p: Params, timeline: Any, start: datetime,
                 mail_dir: Path, progress: bool = False) -> None:  # fmt: skip
        self.api, self.net, self.p, self.tl = api, net, p, timeline
        self.start, self.end = start, start + timedelta(weeks=p.weeks)
        self.mail_dir = mail_dir
        self.progress = progress
        self.rnd = random.Random(p.seed * 7919 + 1)
        self.events: list[tuple[datetime, int, Callable[[], Awaitable[None]], str]] = []
        self.seq = itertools.count()
        self.cases: dict[str, CaseState] = {}
        self.handled_offers: set[str] = set()
        self.woken: set[str] = set()
        self.by_id = {s.id: s for s in net.specialists}
        self.by_email = {s.email: s for s in net.specialists}
        self.tally = Tally()
        self.answered_by_facility: dict[str, list[str]] = {}

    # --- the engine --------------------------------------------------------------------

    def at(self, t: datetime, fn: Callable[[], Awaitable[None]], jobs: str = "") -> None:
        """Do `fn` at programme time `t`; `jobs`: which of matching's passes must follow
        ("new": offer new cases, "expire": pass lapsed or declined offers down)."""
        heapq.heappush(self.events, (t, next(self.seq), fn, jobs))

    async def _run_one(self, fn: Callable[[], Awaitable[None]]) -> None:
        try:
            await fn()
        except ApiError as e:
            self.tally.failed += 1
            if len(self.tally.errors) < 50:
                self.tally.errors.append(str(e))
        except Exception as e:  # keep the year going; the report lists what failed
            self.tally.failed += 1
            if len(self.tally.errors) < 50:
                self.tally.errors.append(f"{type(e).__name__}: {e}")

    async def run(self) -> None:
        rnd = random.Random(self.p.seed)
        for sub in submissions(self.p, self.start, self.net.facilities, rnd):
            self.at(sub.at, lambda s=sub: self.submit(s), jobs="new")  # type: ignore[misc]
        for rd in self.net.rounds:
            for st in rd["starts"]:
                self.at(st, lambda r=rd, s=st: self.round_held(r, s))  # type: ignore[misc]
        next_full = self.start
        t0, reported = time.perf_counter(), 0
        while self.events and self.events[0][0] < self.end:
            week = (self.tl.now() - self.start).days // 7
            if self.progress and week >= reported + 4:
                reported = week
                print(f"  week {week}: {len(self.cases)} cases, "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
            first = min(self.events[0][0], next_full)
            full = first >= next_full
            if full:
                next_full += FULL_PASS
            # Events close together go together, at the last one's time (late, never early).
            batch = []
            while self.events and self.events[0][0] <= first + WINDOW:
                if self.events[0][0] >= self.end:
                    break
                batch.append(heapq.heappop(self.events))
            last = max([first, *(e[0] for e in batch)])
            self.tl.set(max(last, self.tl.now()))
            await asyncio.gather(*(self._run_one(e[2]) for e in batch))
            jobs = {e[3] for e in batch if e[3]}
            if full or jobs:
                await self.tl.jobs(full, offer_new="new" in jobs, expire="expire" in jobs)
                self.read_mail()
                # Emailed offers are known from their email; the rest from the coordinator's
                # list (after every pass when nobody is emailed, else once a day).
                if full or not self.p.notifications:
                    await self._run_one(self.poll_offers)

    async def _wake(self) -> None:
        """An offer's expiry: the worker's pass after it passes the case down the ranking."""

    # --- mail and the inbox ------------------------------------------------------------

    def read_mail(self) -> None:
        try:
            entries = list(self.mail_dir.glob("*.eml"))
        except FileNotFoundError:
            return
        now = self.tl.now()
        for path in entries:
            try:
                data = path.read_bytes()
                path.unlink()
            except FileNotFoundError:
                continue
            msg = message_from_bytes(data, policy=policy.default)
            body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            text = body.get_content() if body is not None else ""
            sp = self.by_email.get(str(msg["To"]).strip("<> "))
            m = OFFER_LINK.search(text)
            if sp is None or m is None:
                self.tally.emails_other += 1
                continue
            self.tally.emails_offer += 1
            offer_id = m.group(1)
            if offer_id not in self.woken:  # when it lapses, the worker passes it down
                self.woken.add(offer_id)
                u = URGENCY.search(text)
                lapse = EXPIRY[u.group(1) if u else "routine"]
                self.at(now + lapse, self._wake, jobs="expire")
            self.offer_noticed(sp, offer_id, now, notified=True)

    async def poll_offers(self) -> None:
        """The coordinator's list of pending offers: who has one waiting unannounced."""
        cursor = None
        while True:
            params: dict[str, Any] = {"status": "pending", "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = (await self.api.call("admin", "GET", "/offers", params=params)).json()
            for o in page["items"]:
                sp = self.by_id.get(o["specialist_id"])
                if o["id"] not in self.woken:
                    self.woken.add(o["id"])
                    self.at(datetime.fromisoformat(o["expires_at"]), self._wake, jobs="expire")
                if sp is not None and o["id"] not in self.handled_offers:
                    created = datetime.fromisoformat(o["created_at"])
                    self.offer_noticed(sp, o["id"], created, notified=False)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def offer_noticed(self, sp: Specialist, offer_id: str, t: datetime, notified: bool) -> None:
        if offer_id in self.handled_offers:
            return
        self.handled_offers.add(offer_id)
        self.tally.offers_seen += 1
        p, rnd = self.p, self.rnd
        if rnd.random() < p.no_answer_rate:
            self.tally.ignored += 1
            return
        if notified:
            if in_window(sp, t):
                when = t + lognormal(rnd, p.email_seen_in_window_median, p.sigma)
            elif rnd.random() < p.email_seen_off_hours_share:
                when = t + lognormal(rnd, p.email_seen_off_hours_median, p.sigma)
            else:
                when = next_window(sp, t, rnd) + lognormal(rnd, p.next_window_delay_median, p.sigma)
        else:
            when = next_window(sp, t, rnd, p.inbox_check_share) + lognormal(rnd, 10, p.sigma)
        self.at(max(when, self.tl.now()), lambda: self.answer_offer(sp, offer_id, notified))

    async def answer_offer(self, sp: Specialist, offer_id: str, notified: bool) -> None:
        api, p = self.api, self.p
        if not notified:  # they open their inbox
            await api.call(sp.id, "GET", "/offers", params={"status": "pending"})
        offer = (await api.call(sp.id, "GET", f"/offers/{offer_id}")).json()
        if offer["status"] != "pending":
            self.tally.lost += 1
            return
        decline = p.decline_rate
        if offer["interpreter_needed"] and not self.net.interpreters:
            decline = max(decline, p.decline_without_interpreter)
        if self.rnd.random() < decline:
            await api.call(
                sp.id, "POST", f"/offers/{offer_id}/decline", json={"reason": "No capacity"},
                ok=(200, 409),
            )  # fmt: skip
            self.tally.declined += 1
            self.at(self.tl.now(), self._wake, jobs="expire")
            return
        r = await api.call(sp.id, "POST", f"/offers/{offer_id}/accept", ok=(200, 201, 409))
        if r.status_code == 409:
            self.tally.lost += 1
            return
        self.tally.accepted += 1
        case = self.cases.get(offer["case_id"])
        if case is None:
            return
        case.specialist = sp
        case.assigned_at = self.tl.now()
        case.interpreter_needed = bool(offer["interpreter_needed"])
        self.case_work(case)

    # --- a case's life -----------------------------------------------------------------

    async def submit(self, sub: Submission) -> None:
        f = sub.facility
        clinician = f.clinicians[sub.index % len(f.clinicians)]
        body = {
            "specialty": sub.specialty,
            "urgency": sub.urgency,
            "question": f"Simulated {sub.urgency} {sub.specialty} question #{sub.index}",
            "summary": "History, examination and investigations (simulated).",
            "patient": {"reference": f"SIM-{sub.index:05d}", "age_years": sub.patient_age},
            "languages": f.languages,
            "interpreter_needed": "en" not in f.languages,
            "consent": {"obtained": True, "method": "verbal"},
        }
        r = (await self.api.call(clinician, "POST", "/cases", json=body)).json()
        case = CaseState(sub, r["id"], clinician, datetime.fromisoformat(r["created_at"]))
        self.cases[case.id] = case
        if sub.attachment:
            files = {"file": (f"photo-{sub.index}.png", PNG, "image/png")}
            await self.api.call(clinician, "POST", f"/cases/{case.id}/attachments", files=files)

    def _reply_at(self, sp: Specialist, t: datetime, median: float, urgent: bool) -> datetime:
        p, rnd = self.p, self.rnd
        if urgent:
            return t + lognormal(rnd, p.emergency_seen_median, p.sigma)
        if in_window(sp, t):
            return t + lognormal(rnd, median, p.sigma)
        return next_window(sp, t, rnd) + lognormal(rnd, p.next_window_delay_median, p.sigma)

    def case_work(self, case: CaseState) -> None:
        sp, p, rnd = case.specialist, self.p, self.rnd
        assert sp is not None
        urgent = case.sub.urgency == "emergency"
        now = self.tl.now()
        if case.interpreter_needed and self.net.interpreters:
            self.at(now + lognormal(rnd, 20, p.sigma), lambda: self.add_interpreter(case))
        first = self._reply_at(sp, now, p.first_message_median, urgent)
        self.at(first, lambda: self.specialist_writes(case))

    async def add_interpreter(self, case: CaseState) -> None:
        langs = set(case.sub.facility.languages)
        fit = [u for u, ls in self.net.interpreters if langs & set(ls)] or [
            self.net.interpreters[0][0]
        ]
        body = {"user_id": fit[0], "role": "interpreter"}
        r = await self.api.call("admin", "POST", f"/cases/{case.id}/participants", json=body,
                                ok=(200, 201, 409))  # fmt: skip
        if r.status_code in (200, 201):
            case.interpreter = fit[0]

    async def message(self, who: str, case: CaseState, text: str) -> dict[str, Any]:
        body = {"body": text, "client_msg_id": f"sim-{next(self.seq)}"}
        return dict(
            (await self.api.call(who, "POST", f"/cases/{case.id}/messages", json=body)).json()
        )

    async def specialist_writes(self, case: CaseState) -> None:
        sp, p, rnd = case.specialist, self.p, self.rnd
        assert sp is not None
        m = await self.message(sp.id, case, "Thank you; a few questions before I advise.")
        case.first_response_at = datetime.fromisoformat(m["created_at"])
        reply = clinic_time(
            case.sub.facility, self.tl.now() + lognormal(rnd, p.clinician_reply_median, p.sigma), p
        )
        self.at(reply, lambda: self.clinician_replies(case))
        median = 60.0 if case.sub.urgency == "emergency" else p.note_after_first_message_median
        t = self._reply_at(sp, self.tl.now() + lognormal(rnd, median, p.sigma), 30, False)
        if case.sub.urgency == "emergency":
            t = self.tl.now() + lognormal(rnd, median, p.sigma)
        self.at(t, lambda: self.sign_note(case))

    async def clinician_replies(self, case: CaseState) -> None:
        await self.message(case.clinician, case, "Answers to your questions (simulated).")
        if case.interpreter and self.rnd.random() < 0.5:
            await self.message(case.interpreter, case, "Interpreted: the patient adds details.")

    async def sign_note(self, case: CaseState) -> None:
        sp, p, rnd = case.specialist, self.p, self.rnd
        assert sp is not None
        api = self.api
        body = {
            "kind": "consult",
            "assessment": "Simulated assessment.",
            "recommendations": "Simulated advice that fits the local resources.",
            "follow_up_plan": "Review in two weeks." if rnd.random() < p.follow_up_rate else "",
        }
        r = await api.call(sp.id, "POST", f"/cases/{case.id}/notes", json=body)
        note_id, etag = r.json()["id"], r.headers.get("ETag", "")
        signed = (
            await api.call(sp.id, "POST", f"/notes/{note_id}/sign", headers={"If-Match": etag})
        ).json()
        case.note_id = note_id
        case.signed_at = datetime.fromisoformat(signed["signed_at"])
        self.answered_by_facility.setdefault(case.sub.facility.key, []).append(case.id)
        if body["follow_up_plan"]:
            due = self.tl.now() + timedelta(days=rnd.randint(*p.follow_up_days))
            fu = {
                "due_at": due.isoformat(),
                "description": "Recheck after treatment",
                "assignee_id": case.clinician,
            }
            r = await api.call(sp.id, "POST", f"/cases/{case.id}/follow-ups", json=fu)
            fu_id = r.json()["id"]
            kept = clinic_time(case.sub.facility, due + lognormal(rnd, 12 * 60, p.sigma), p)
            self.at(kept, lambda: self.follow_up_due(case, fu_id))
        ack = clinic_time(case.sub.facility, self.tl.now() + lognormal(rnd, 180, p.sigma), p)
        self.at(ack, lambda: self.acknowledge(case, close=not body["follow_up_plan"]))

    async def acknowledge(self, case: CaseState, close: bool) -> None:
        p, rnd, api = self.p, self.rnd, self.api
        if rnd.random() < p.acknowledge_rate:
            await api.call(case.clinician, "POST", f"/notes/{case.note_id}/acknowledge")
        if rnd.random() < p.feedback_rate:
            body = {
                "usefulness": rnd.choices(range(1, 6), p.usefulness_weights)[0],
                "changed_management": rnd.random() < p.changed_management_rate,
            }
            await api.call(case.clinician, "POST", f"/cases/{case.id}/feedback", json=body)
        if close:
            when = self.tl.now() + timedelta(days=rnd.uniform(1, 3))
            self.at(when, lambda: self.close(case))

    async def follow_up_due(self, case: CaseState, fu_id: str) -> None:
        p, roll = self.p, self.rnd.random()
        if roll < p.follow_up_kept + p.follow_up_missed:
            status = "done" if roll < p.follow_up_kept else "missed"
            body = {"status": status, "outcome": f"Follow-up {status} (simulated)"}
            await self.api.call(case.clinician, "PATCH", f"/follow-ups/{fu_id}", json=body)
            await self.close(case)

    async def close(self, case: CaseState) -> None:
        body = {"outcome": "Advice followed; patient improving (simulated)."}
        await self.api.call(case.clinician, "POST", f"/cases/{case.id}/close", json=body,
                            ok=(200, 409))  # fmt: skip

    # --- rounds ------------------------------------------------------------------------

    async def round_held(self, rd: dict[str, Any], start: datetime) -> None:
        f, rid, api, rnd = rd["facility"], rd["id"], self.api, self.rnd
        occ = f"/rounds/{rid}/occurrences/{start.isoformat().replace('+00:00', 'Z')}"
        recent = self.answered_by_facility.get(f.key, [])[-2:]
        items = []
        for cid in recent:
            body = {"case_id": cid, "presenter_id": self.cases[cid].clinician}
            r = await api.call("admin", "POST", occ + "/agenda", json=body, ok=(200, 201, 409, 422))
            if r.status_code in (200, 201):
                items.append(r.json()["id"])
        for uid in [*f.clinicians, *rd["experts"]]:
            attended = rnd.random() < self.p.round_attendance
            await api.call("admin", "POST", occ + "/attendance",
                           json={"user_id": uid, "attended": attended})  # fmt: skip
        for item in items:
            body = {"recommendation": "Round advice recorded (simulated)."}
            await api.call("admin", "PATCH", f"{occ}/agenda/{item}", json=body)
