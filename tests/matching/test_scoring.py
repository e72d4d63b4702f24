"""The scoring functions alone: examples, then properties that must hold for any input."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from app.matching import scoring
from app.matching.scoring import Features

counts = st.integers(min_value=0, max_value=500)


@st.composite
def features(draw) -> Features:
    capacity = draw(st.integers(min_value=1, max_value=50))
    assigned = draw(counts)
    return Features(
        shares_language=draw(st.booleans()),
        case_has_languages=draw(st.booleans()),
        minutes_to_window=draw(st.none() | st.integers(min_value=0, max_value=10080)),
        minutes_to_deadline=draw(st.floats(min_value=-100, max_value=20000, allow_nan=False)),
        active_cases=draw(st.integers(min_value=0, max_value=capacity)),
        max_active_cases=capacity,
        answered_follow_up=draw(st.booleans()),
        helped_facility=draw(st.booleans()),
        offers_accepted=draw(counts),
        offers_declined=draw(counts),
        offers_expired=draw(counts),
        cases_answered=draw(st.integers(min_value=0, max_value=assigned)),
        cases_assigned=assigned,
        hours_since_last_assignment=draw(st.none() | st.floats(min_value=0, max_value=10000)),
    )


BASE = Features(
    shares_language=True,
    case_has_languages=True,
    minutes_to_window=0,
    minutes_to_deadline=600,
    active_cases=0,
    max_active_cases=3,
    answered_follow_up=False,
    helped_facility=False,
    offers_accepted=0,
    offers_declined=0,
    offers_expired=0,
    cases_answered=0,
    cases_assigned=0,
    hours_since_last_assignment=None,
)


def test_parts_by_example():
    p = scoring.parts(BASE)
    assert p == {
        "language": 1.0,
        "availability": 1.0,
        "load": 1.0,
        "continuity": 0.0,
        "responsiveness": 0.5,
        "fairness": 1.0,
    }
    assert scoring.availability_part(300, 600) == 0.25  # halfway to the deadline
    assert scoring.availability_part(600, 600) == 0.0  # not before respond_by
    assert scoring.availability_part(None, 600) == 0.0  # no windows at all
    assert scoring.load_part(2, 4) == 0.5
    assert scoring.continuity_part(True, False) == 1.0
    assert scoring.continuity_part(False, True) == 0.5
    assert scoring.fairness_part(2) == 0.0 and scoring.fairness_part(30) == 0.25
    assert scoring.fairness_part(24 * 20) == 1.0
    assert scoring.language_part(False, False) == 1.0  # the case names no language
    assert scoring.interpreter_needed(replace(BASE, shares_language=False))
    assert not scoring.interpreter_needed(BASE)


def test_language_outweighs_any_single_other_part():
    # A shared language is worth more than the best of any one other part: it is the
    # strongest preference (but not a wall, see the ranking tests).
    others = [w for k, w in scoring.WEIGHTS.items() if k != "language"]
    assert scoring.WEIGHTS["language"] > max(others)
    speaker_far = replace(BASE, minutes_to_window=None)
    other_now = replace(BASE, shares_language=False)
    assert scoring.score(speaker_far) > scoring.score(other_now)


@given(features())
def test_score_is_between_zero_and_one(f):
    assert 0.0 <= scoring.score(f) <= 1.0
    assert all(0.0 <= v <= 1.0 for v in scoring.parts(f).values())


@given(features(), st.integers(min_value=1, max_value=10))
def test_more_load_never_raises_the_score(f, more):
    heavier = replace(f, active_cases=min(f.max_active_cases, f.active_cases + more))
    assert scoring.score(heavier) <= scoring.score(f)


@given(features())
def test_a_shared_language_never_lowers_the_score(f):
    assert scoring.score(replace(f, shares_language=True)) >= scoring.score(
        replace(f, shares_language=False)
    )


@given(features(), st.integers(min_value=0, max_value=10080))
def test_being_free_sooner_never_lowers_the_score(f, sooner):
    if f.minutes_to_window is None:
        return
    earlier = replace(f, minutes_to_window=max(0, f.minutes_to_window - sooner))
    assert scoring.score(earlier) >= scoring.score(f)
    assert scoring.score(replace(f, minutes_to_window=0)) >= scoring.score(
        replace(f, minutes_to_window=None)
    )


@given(features())
def test_continuity_never_lowers_the_score(f):
    assert scoring.score(replace(f, answered_follow_up=True)) >= scoring.score(f)
    assert scoring.score(replace(f, helped_facility=True)) >= scoring.score(f)


@given(features(), st.integers(min_value=1, max_value=50))
def test_declining_or_letting_offers_lapse_never_raises_the_score(f, n):
    assert scoring.score(replace(f, offers_declined=f.offers_declined + n)) <= scoring.score(f)
    assert scoring.score(replace(f, offers_expired=f.offers_expired + n)) <= scoring.score(f)
    assert scoring.score(replace(f, offers_accepted=f.offers_accepted + n)) >= scoring.score(f)


@given(features(), st.floats(min_value=0, max_value=1000))
def test_a_more_recent_assignment_never_raises_the_score(f, hours):
    if f.hours_since_last_assignment is None:
        assert scoring.score(replace(f, hours_since_last_assignment=hours)) <= scoring.score(f)
        return
    recent = replace(f, hours_since_last_assignment=max(0.0, f.hours_since_last_assignment - hours))
    assert scoring.score(recent) <= scoring.score(f)


@given(features(), st.booleans())
def test_the_shortlist_bound_is_never_below_the_score(f, window_this_hour):
    # Ranking shortlists by upper_bound and scores only the shortlist exactly: if the bound
    # could fall below the score, a better candidate could be left out.
    window_this_hour = window_this_hour or f.minutes_to_window == 0
    assert scoring.upper_bound(f, window_this_hour) >= scoring.score(f) - 1e-12
