"""The simulated programme's world and the distributions its people's behaviour is drawn from.

Everything here is plain data and seeded randomness: the network (facilities, specialists,
interpreters, clinicians), the year's submissions, and the parameters the report states as
its assumptions. Nothing here talks to the server.
"""

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Facilities: (key, name, country, zone, languages, share of the cases, resource tags).
FACILITIES: list[tuple[str, str, str, str, list[str], float, list[str]]] = [
    ("salta", "Hospital San Roque de la Puna", "AR", "America/Argentina/Salta",
     ["es", "qu"], 0.08, ["x-ray", "basic-lab", "ultrasound"]),
    ("kisumu", "Lake Mission Hospital", "KE", "Africa/Nairobi",
     ["sw", "en", "luo"], 0.12, ["ultrasound", "malaria-rdt", "cbc", "oxygen"]),
    ("jumla", "Karnali Hill Clinic", "NP", "Asia/Kathmandu",
     ["ne", "en"], 0.07, ["pulse-oximeter", "glucometer", "ecg"]),
    ("gonaives", "Centre de Santé Artibonite", "HT", "America/Port-au-Prince",
     ["ht", "fr"], 0.09, ["basic-lab", "hiv-rapid-test", "ors"]),
    ("juba", "Juba Teaching Annex", "SS", "Africa/Juba",
     ["ar", "en"], 0.10, ["x-ray", "cbc", "oxygen"]),
    ("kinshasa", "Centre Médical Ndjili", "CD", "Africa/Kinshasa",
     ["fr", "ln"], 0.10, ["ultrasound", "basic-lab"]),
    ("kabul", "Kabul Mother and Child Clinic", "AF", "Asia/Kabul",
     ["ps", "fa"], 0.10, ["ultrasound", "cbc"]),
    ("aden", "Aden Field Hospital", "YE", "Asia/Aden",
     ["ar"], 0.09, ["x-ray", "basic-lab", "oxygen"]),
    ("coxsbazar", "Cox's Bazar Camp Clinic", "BD", "Asia/Dhaka",
     ["bn", "en"], 0.10, ["malaria-rdt", "ors", "glucometer"]),
    ("freetown", "Freetown Community Hospital", "SL", "Africa/Freetown",
     ["en", "kri"], 0.08, ["x-ray", "cbc", "hiv-rapid-test"]),
    ("ndjamena", "Hôpital de District N'Djamena", "TD", "Africa/Ndjamena",
     ["fr", "ar"], 0.07, ["basic-lab", "ors"]),
]  # fmt: skip

# Where volunteers live: (zone, share, languages besides English).
SPECIALIST_ZONES: list[tuple[str, float, list[str]]] = [
    ("Europe/London", 0.14, []), ("Europe/Paris", 0.12, ["fr"]),
    ("Europe/Berlin", 0.08, ["de"]), ("Europe/Madrid", 0.07, ["es"]),
    ("Europe/Rome", 0.05, ["it"]), ("Europe/Brussels", 0.05, ["fr", "nl"]),
    ("America/New_York", 0.10, ["es"]), ("America/Chicago", 0.04, []),
    ("America/Vancouver", 0.03, []), ("America/Montreal", 0.04, ["fr"]),
    ("America/Sao_Paulo", 0.04, ["pt", "es"]), ("America/Bogota", 0.03, ["es"]),
    ("Asia/Kolkata", 0.06, ["hi", "ne"]), ("Asia/Dubai", 0.04, ["ar"]),
    ("Africa/Nairobi", 0.04, ["sw"]), ("Africa/Johannesburg", 0.03, []),
    ("Australia/Sydney", 0.04, []),
]  # fmt: skip

SPECIALTY_MIX: dict[str, float] = {
    "dermatology": 0.16, "internal_medicine": 0.14, "pediatrics": 0.14,
    "infectious_disease": 0.11, "radiology": 0.08, "cardiology": 0.07,
    "obstetrics_gynecology": 0.07, "neurology": 0.05, "general_surgery": 0.05,
    "orthopedics": 0.05, "psychiatry": 0.04, "emergency_medicine": 0.04,
}  # fmt: skip

# Interpreters: (name, languages).
INTERPRETERS = [
    ("Quechua-Spanish interpreter", ["qu", "es", "en"]),
    ("Pashto-Dari interpreter", ["ps", "fa", "en"]),
    ("Bangla interpreter", ["bn", "en"]),
    ("Lingala interpreter", ["ln", "fr", "en"]),
    ("Arabic interpreter", ["ar", "en", "fr"]),
    ("Creole interpreter", ["ht", "fr", "en"]),
]


@dataclass(frozen=True)
class Params:
    """Every assumption the report states; what-ifs change one of them."""

    weeks: int = 52
    cases_per_week: float = 18.0
    specialists: int = 280
    interpreters: bool = True
    notifications: bool = True
    urgency_mix: tuple[tuple[str, float], ...] = (
        ("routine", 0.70),
        ("urgent", 0.25),
        ("emergency", 0.05),
    )
    attachment_rate: float = 0.4
    clinic_hours: tuple[int, int] = (8, 17)  # local, Monday to Saturday morning
    # Specialists: weekly windows, load limit, leave.
    window_days: tuple[int, int] = (4, 7)
    window_hours: tuple[int, int] = (2, 5)
    max_active_cases: tuple[int, int] = (2, 5)
    leave_weeks_per_year: tuple[int, int] = (2, 6)
    # Reply behaviour (minutes; lognormal medians and spreads).
    email_seen_in_window_median: float = 30.0
    email_seen_off_hours_share: float = 0.5
    email_seen_off_hours_median: float = 60.0
    next_window_delay_median: float = 30.0
    inbox_check_share: float = 0.6  # windows in which an un-notified specialist looks
    emergency_seen_median: float = 8.0
    emergency_any_hour_share: float = 0.6
    decline_rate: float = 0.15
    no_answer_rate: float = 0.15
    decline_without_interpreter: float = 0.6
    sigma: float = 0.8
    first_message_median: float = 45.0
    note_after_first_message_median: float = 240.0
    clinician_reply_median: float = 120.0
    acknowledge_rate: float = 0.85
    feedback_rate: float = 0.6
    usefulness_weights: tuple[float, ...] = (0.02, 0.05, 0.15, 0.40, 0.38)
    changed_management_rate: float = 0.55
    follow_up_rate: float = 0.5
    follow_up_days: tuple[int, int] = (7, 28)
    follow_up_kept: float = 0.70
    follow_up_missed: float = 0.15  # the rest are never closed: overdue
    round_attendance: float = 0.7
    seed: int = 1

    def what_if(self, **changes: Any) -> "Params":
        return replace(self, **changes)


@dataclass
class Facility:
    key: str
    name: str
    country: str
    zone: str
    languages: list[str]
    share: float
    tags: list[str]
    id: str = ""
    clinicians: list[str] = field(default_factory=list)  # user ids


@dataclass
class Specialist:
    name: str
    email: str
    zone: str
    languages: list[str]
    specialties: list[str]
    windows: list[dict[str, Any]]  # [{"weekday", "start", "end"}], local
    max_active: int
    leave: list[tuple[datetime, datetime]]
    id: str = ""


def lognormal(rnd: random.Random, median_minutes: float, sigma: float) -> timedelta:
    return timedelta(minutes=median_minutes * math.exp(rnd.gauss(0, sigma)))


def pick(rnd: random.Random, weights: dict[str, float]) -> str:
    return rnd.choices(list(weights), list(weights.values()))[0]


def facilities() -> list[Facility]:
    return [Facility(*row) for row in FACILITIES]


def specialists(p: Params, start: datetime, rnd: random.Random) -> list[Specialist]:
    zones = {z: w for z, w, _ in SPECIALIST_ZONES}
    extra = {z: langs for z, _, langs in SPECIALIST_ZONES}
    out = []
    # Every specialty is covered by at least a few people, then by the case mix.
    cover = [s for s in SPECIALTY_MIX for _ in range(3)]
    for i in range(p.specialists):
        zone = pick(rnd, zones)
        first = cover[i] if i < len(cover) else pick(rnd, SPECIALTY_MIX)
        specs = [first]
        if rnd.random() < 0.25:
            second = pick(rnd, SPECIALTY_MIX)
            if second != first:
                specs.append(second)
        langs = ["en", *extra[zone]]
        if rnd.random() < 0.15:
            langs.append(rnd.choice(["es", "fr", "ar", "pt", "sw"]))
        days = rnd.sample(range(7), rnd.randint(*p.window_days))
        windows = []
        for d in sorted(days):
            h0 = rnd.randint(7, 20)
            h1 = min(23, h0 + rnd.randint(*p.window_hours))
            windows.append({"weekday": d, "start": f"{h0:02d}:00", "end": f"{h1:02d}:00"})
        leave = []
        weeks_off = rnd.randint(*p.leave_weeks_per_year)
        for chunk in _split(weeks_off, rnd):
            begin = start + timedelta(days=rnd.randint(0, 7 * max(1, p.weeks) - 1))
            leave.append((begin, begin + timedelta(weeks=chunk)))
        out.append(
            Specialist(
                name=f"Dr Volunteer {i:03d}",
                email=f"volunteer{i:03d}@programme.example.org",
                zone=zone,
                languages=list(dict.fromkeys(langs)),
                specialties=specs,
                windows=windows,
                max_active=rnd.randint(*p.max_active_cases),
                leave=leave,
            )
        )
    return out


def _split(weeks: int, rnd: random.Random) -> list[int]:
    parts = []
    while weeks > 0:
        w = min(weeks, rnd.randint(1, 3))
        parts.append(w)
        weeks -= w
    return parts


@dataclass
class Submission:
    at: datetime
    facility: Facility
    specialty: str
    urgency: str
    attachment: bool
    patient_age: int
    index: int


def submissions(
    p: Params, start: datetime, fac: list[Facility], rnd: random.Random
) -> list[Submission]:
    """~cases_per_week a week (Poisson), in each facility's working hours, local time."""
    shares = {f.key: f.share for f in fac}
    by_key = {f.key: f for f in fac}
    urg = dict(p.urgency_mix)
    out: list[Submission] = []
    for week in range(p.weeks):
        n = _poisson(rnd, p.cases_per_week)
        for _ in range(n):
            f = by_key[pick(rnd, shares)]
            tz = ZoneInfo(f.zone)
            day = (start + timedelta(weeks=week, days=rnd.randint(0, 5))).astimezone(tz)
            h0, h1 = p.clinic_hours
            if day.weekday() == 5:
                h1 = 12  # Saturday mornings
            minute = rnd.randint(h0 * 60, h1 * 60 - 1)
            local = day.replace(hour=minute // 60, minute=minute % 60, second=rnd.randint(0, 59))
            at = local.astimezone(start.tzinfo)
            if at < start:
                continue
            out.append(
                Submission(
                    at=at,
                    facility=f,
                    specialty=pick(rnd, SPECIALTY_MIX),
                    urgency=pick(rnd, urg),
                    attachment=rnd.random() < p.attachment_rate,
                    patient_age=rnd.choice([rnd.randint(0, 5), rnd.randint(6, 80)]),
                    index=len(out),
                )
            )
    out.sort(key=lambda s: s.at)
    return out


def _poisson(rnd: random.Random, lam: float) -> int:
    limit, k, prod = math.exp(-lam), 0, rnd.random()
    while prod > limit:
        k += 1
        prod *= rnd.random()
    return k


def in_window(sp: Specialist, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(sp.zone))
    hm = f"{local.hour:02d}:{local.minute:02d}"
    return any(w["weekday"] == local.weekday() and w["start"] <= hm < w["end"] for w in sp.windows)


def on_leave(sp: Specialist, at: datetime) -> bool:
    return any(a <= at < b for a, b in sp.leave)


def next_window(
    sp: Specialist, after: datetime, rnd: random.Random, share: float = 1.0
) -> datetime:
    """The start of a later window (each one taken with probability `share`), and a random
    moment inside it when share < 1 (an inbox check); off leave."""
    tz = ZoneInfo(sp.zone)
    local = after.astimezone(tz)
    for day in range(0, 60):
        d = (local + timedelta(days=day)).date()
        for w in sp.windows:
            if w["weekday"] != d.weekday():
                continue
            h0, h1 = int(w["start"][:2]), int(w["end"][:2])
            begin = datetime(d.year, d.month, d.day, h0, tzinfo=tz)
            if share < 1.0:
                if rnd.random() >= share:
                    continue
                begin += timedelta(minutes=rnd.uniform(0, (h1 - h0) * 60))
            if begin > after and not on_leave(sp, begin):
                return begin.astimezone(after.tzinfo)
    return after + timedelta(days=60)


def clinic_time(f: Facility, after: datetime, p: Params) -> datetime:
    """`after`, or the next opening of the clinic when it is closed."""
    tz = ZoneInfo(f.zone)
    local = after.astimezone(tz)
    h0, h1 = p.clinic_hours
    for day in range(8):
        d = local + timedelta(days=day)
        if d.weekday() == 6:
            continue
        end = 12 if d.weekday() == 5 else h1
        open_ = d.replace(hour=h0, minute=0, second=0, microsecond=0)
        close = d.replace(hour=end, minute=0, second=0, microsecond=0)
        if day == 0 and open_ <= local < close:
            return after
        if local < open_:
            return open_.astimezone(after.tzinfo)
    return after
