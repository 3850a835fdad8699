"""Golden cases: every broken mode file in tests/cases gives exactly the expected diagnostics.

``tests/cases/expected.yaml`` maps each case file to its expected ``CODE line:column`` list.
Every case must be listed, every listed case must exist, and every diagnostic code must be
covered by some case.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modec.compiler.pipeline import compile_path
from modec.diagnostics import CODES
from tests.conftest import CASES

EXPECTED: dict[str, list[str]] = yaml.safe_load((CASES / "expected.yaml").read_text())
CASE_FILES = sorted(p.name for p in CASES.iterdir() if p.name != "expected.yaml")


def diagnostics_of(path: Path) -> list[str]:
    c = compile_path(path, display=path.name, until="check")
    out = []
    for d in c.diagnostics:
        assert d.span is not None, d
        where = "" if d.span.file == path.name else f"{d.span.file}:"
        out.append(f"{d.code} {where}{d.span.line}:{d.span.column}")
    return sorted(out)


@pytest.mark.parametrize("name", CASE_FILES)
def test_case_gives_expected_diagnostics(name: str) -> None:
    assert name in EXPECTED, f"{name} has no entry in expected.yaml"
    assert diagnostics_of(CASES / name) == sorted(EXPECTED[name])


def test_every_listed_case_exists() -> None:
    assert sorted(EXPECTED) == CASE_FILES


def test_at_least_forty_broken_cases() -> None:
    broken = [n for n, codes in EXPECTED.items() if codes]
    assert len(broken) >= 40


def test_every_code_is_covered() -> None:
    covered = {entry.split()[0] for entries in EXPECTED.values() for entry in entries}
    covered.add("MC002")  # generated below: a committed 1 MiB file would be waste
    # The importers' codes (MC7xx) have their cases in tests/interop/test_codes.py.
    wanted = {c for c in CODES if not c.startswith("MC7")}
    assert covered >= wanted, f"codes without a golden case: {sorted(wanted - covered)}"


def test_file_over_one_mebibyte(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (110 * 1024))
    assert diagnostics_of(big) == ["MC002 1:1"]
