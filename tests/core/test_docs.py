"""docs/foundation.md's settings table names every setting, with its real default."""

import re
from pathlib import Path

from app.core.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "foundation.md"


def _table() -> dict[str, str]:
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.*?) \|", DOC.read_text(), re.M)
    return dict(rows)


def test_every_setting_is_documented():
    documented = _table()
    missing = {name.upper() for name in Settings.model_fields} - set(documented)
    assert missing == set(), f"add these to the settings table in {DOC.name}"


def test_documented_scalar_defaults_are_the_real_ones():
    documented = _table()
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, bool | int | float) or (isinstance(default, str) and default):
            shown = documented[name.upper()].strip("`").split("`")[0]
            expected = str(default).lower() if isinstance(default, bool) else str(default)
            assert shown == expected, (name, shown, expected)


ROOT = DOC.parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_and_docs_point_only_at_what_a_clone_contains():
    checked = 0
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or a heading of the same page
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.exists() and ROOT in path.parents, (page.name, target)
            checked += 1
        # The contract partners read is the served OpenAPI schema, not a file elsewhere.
        assert not re.search(r"\b(API|DESIGN)\.md\b", text), page.name
    assert checked >= 30  # the README alone links its docs and screenshots


def test_the_readme_tour_says_the_setting_a_local_webhook_needs():
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("hears of every step by signed webhook") :][:400]
    assert "WEBHOOK_ALLOW_PRIVATE=1" in tour
