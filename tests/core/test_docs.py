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
