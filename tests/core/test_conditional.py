"""The one conditional-request helper (app/core/conditional.py)."""

import pytest

from app.core.conditional import check_if_match, etag, matches_none
from app.core.errors import PreconditionFailed, PreconditionRequired


def test_one_etag_format():
    assert etag(3) == '"3"'
    assert etag(3, "summary") == '"3-summary"'
    assert etag("ab12") == '"ab12"'


def test_if_match_is_strong_and_optional_unless_required():
    current = etag(4)
    check_if_match(None, current)
    check_if_match(current, current)
    check_if_match(f'"1", {current}', current)
    check_if_match("*", current)
    with pytest.raises(PreconditionFailed) as stale:
        check_if_match(etag(3), current)
    assert stale.value.extra["current_etag"] == current
    with pytest.raises(PreconditionFailed):
        check_if_match(f"W/{current}", current)  # a weak tag never matches a write
    with pytest.raises(PreconditionRequired):
        check_if_match(None, current, required=True)
    with pytest.raises(PreconditionRequired):
        check_if_match("  ", current, required=True)


def test_if_match_names_a_version_in_any_of_its_representations():
    """A read of the summary, or of a specialist whose open cases moved since, is still a
    read of that version: the write compares the version the tag names."""
    check_if_match(etag(4, "summary"), etag(4))
    check_if_match(etag(4, "a1b2c3"), etag(4, "d4e5f6"))
    with pytest.raises(PreconditionFailed):
        check_if_match(etag(3, "summary"), etag(4))
    with pytest.raises(PreconditionFailed):
        check_if_match(f"W/{etag(4, 'summary')}", etag(4))  # weak: still never
    with pytest.raises(PreconditionFailed):
        check_if_match("4", etag(4))  # not a tag: unquoted


def test_if_none_match_is_weak():
    current = etag(4)
    assert matches_none(current, current)
    assert matches_none(f"W/{current}", current)
    assert matches_none(f'"1", {current}', current)
    assert matches_none("*", current)
    assert not matches_none(None, current)
    assert not matches_none(etag(3), current)
