"""The README documents every diagnostic code, and the quickstart is the two commands."""

from __future__ import annotations

import re
from pathlib import Path

from modec.diagnostics import CODES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_code_table_matches_codes() -> None:
    table = dict(re.findall(r"^\| `(MC\d{3})` \| (\w+) \|", README, flags=re.M))
    assert table == {code: info.severity.value for code, info in CODES.items()}


def test_quickstart_is_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_public_surface_resolves() -> None:
    import modec

    missing = [name for name in modec.__all__ if name != "__version__" and not hasattr(modec, name)]
    assert missing == []
