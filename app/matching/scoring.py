"""How a candidate is scored: pure functions, each part in [0, 1], no I/O.

The ranking query (app/matching/ranking.py) computes the same formulas in SQL so the
database can order 100,000 specialists without shipping them to Python; the parts shown
to callers are recomputed here from the same features, and the tests check both agree.

Parts and weights:
- language (4): 1 when the specialist speaks one of the case's languages (or the case names
  none); 0 otherwise, and the candidate is marked interpreter_needed. A strong preference,
  not a wall: nobody is dropped for language.
- availability (2): 1 inside a weekly window now (their own zone); between 0.5 and 0 when
  their next window opens before respond_by, sooner scoring higher; 0 when none does.
- load (1.5): 1 - active cases / capacity.
- continuity (2): 1 for the specialist who took the case this one follows up; 0.5 for one
  who has helped this facility before; else 0.
- responsiveness (1): half the smoothed share of offers accepted (rather than declined or
  left to expire), half the smoothed share of assigned cases answered.
- fairness (1): how long since their last assignment (1 after two weeks or never, stepping
  down to 0 within the last day), so work spreads across the roster.
"""

from dataclasses import dataclass

WEIGHTS: dict[str, float] = {
    "language": 4.0,
    "availability": 2.0,
    "load": 1.5,
    "continuity": 2.0,
    "responsiveness": 1.0,
    "fairness": 1.0,
}
WEIGHT_SUM = sum(WEIGHTS.values())

# Hours since the last assignment -> fairness part (first threshold met wins).
FAIRNESS_STEPS: tuple[tuple[float, float], ...] = (
    (14 * 24, 1.0),
    (7 * 24, 0.75),
    (3 * 24, 0.5),
    (24, 0.25),
)
# Availability before respond_by is worth at most this much of being available now.
LATER_WINDOW_CAP = 0.5


@dataclass(frozen=True)
class Features:
    shares_language: bool
    case_has_languages: bool
    minutes_to_window: int | None  # 0: inside a window now; None: no windows at all
    minutes_to_deadline: float
    active_cases: int
    max_active_cases: int
    answered_follow_up: bool
    helped_facility: bool
    offers_accepted: int
    offers_declined: int
    offers_expired: int
    cases_answered: int
    cases_assigned: int
    hours_since_last_assignment: float | None  # None: never assigned
    pending_offers: int = 0  # offers of other cases waiting on them: load, not capacity


def language_part(shares_language: bool, case_has_languages: bool) -> float:
    return 1.0 if shares_language or not case_has_languages else 0.0


def availability_part(minutes_to_window: int | None, minutes_to_deadline: float) -> float:
    if minutes_to_window is None:
        return 0.0
    if minutes_to_window == 0:
        return 1.0
    if minutes_to_deadline <= 0 or minutes_to_window >= minutes_to_deadline:
        return 0.0
    return LATER_WINDOW_CAP * (1.0 - minutes_to_window / minutes_to_deadline)


def load_part(active_cases: int, max_active_cases: int, pending_offers: int = 0) -> float:
    if max_active_cases <= 0:
        return 0.0
    return max(0.0, 1.0 - (active_cases + pending_offers) / max_active_cases)


def continuity_part(answered_follow_up: bool, helped_facility: bool) -> float:
    if answered_follow_up:
        return 1.0
    return 0.5 if helped_facility else 0.0


def responsiveness_part(
    accepted: int, declined: int, expired: int, answered: int, assigned: int
) -> float:
    # Laplace smoothing: a newcomer starts at 0.5, not at 0 or 1.
    accepting = (accepted + 1.0) / (accepted + declined + expired + 2.0)
    answering = (min(answered, assigned) + 1.0) / (assigned + 2.0)
    return 0.5 * accepting + 0.5 * answering


def fairness_part(hours_since_last_assignment: float | None) -> float:
    if hours_since_last_assignment is None:
        return 1.0
    for hours, part in FAIRNESS_STEPS:
        if hours_since_last_assignment >= hours:
            return part
    return 0.0


def parts(f: Features) -> dict[str, float]:
    return {
        "language": language_part(f.shares_language, f.case_has_languages),
        "availability": availability_part(f.minutes_to_window, f.minutes_to_deadline),
        "load": load_part(f.active_cases, f.max_active_cases, f.pending_offers),
        "continuity": continuity_part(f.answered_follow_up, f.helped_facility),
        "responsiveness": responsiveness_part(
            f.offers_accepted,
            f.offers_declined,
            f.offers_expired,
            f.cases_answered,
            f.cases_assigned,
        ),
        "fairness": fairness_part(f.hours_since_last_assignment),
    }


def total(part_values: dict[str, float]) -> float:
    """The weighted mean of the parts, in [0, 1]."""
    return sum(WEIGHTS[k] * part_values[k] for k in WEIGHTS) / WEIGHT_SUM


def score(f: Features) -> float:
    return total(parts(f))


def upper_bound(f: Features, window_this_hour: bool) -> float:
    """The best score f could have knowing only whether a window touches the current hour
    (not the minute, nor when the next window opens): ranking shortlists by this without
    looking up anyone's windows, then scores only the shortlist exactly.
    `window_this_hour` is true whenever f is inside a window now."""
    best = parts(f)
    best["availability"] = 1.0 if window_this_hour else LATER_WINDOW_CAP
    return total(best)


def interpreter_needed(f: Features) -> bool:
    return f.case_has_languages and not f.shares_language
