"""Every MC7xx code has a case here: the smallest input that makes modec emit it, and where.

(tests/test_golden_cases.py covers the codes of mode files; these are the codes of other
tools' files.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modec.diagnostics import CODES
from modec.interop import export_mode, import_paths, lint_foreign

CLAUDE = ".claude/agents/"
ROO_MODE = (
    "  - slug: a\n    name: A\n    roleDefinition: r\n    whenToUse: Use for a.\n"
    "    groups: [read]\n"
)

#: code -> (files to write, the path to import, "file:line" of the diagnostic)
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "MC702": ({"notes.txt": "hello\n"}, "notes.txt", "notes.txt:1"),
    "MC703": (
        {".roomodes": "customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n"},
        ".roomodes",
        ".roomodes:1",
    ),
    "MC704": (
        {CLAUDE + "a.md": "---\nname: a\ndescription: x: y\n---\n"},
        CLAUDE,
        CLAUDE + "a.md:2",
    ),
    "MC705": (
        {
            ".roomodes": "customModes:\n  - slug: a b\n    name: A\n    roleDefinition: r\n"
            "    groups: []\n"
        },
        ".roomodes",
        ".roomodes:2",
    ),
    "MC706": (
        {".roomodes": "customModes:\n" + ROO_MODE + "    color: red\n"},
        ".roomodes",
        ".roomodes:7",
    ),
    "MC707": (
        {CLAUDE + "a.md": "---\nname: Code Reviewer!\ndescription: Use for a.\n---\n"},
        CLAUDE,
        CLAUDE + "a.md:2",
    ),
    "MC708": (
        {
            CLAUDE + "a.md": "---\nname: tests\ndescription: Use for a.\n---\n",
            CLAUDE + "b.md": "---\nname: Tests\ndescription: Use for b.\n---\n",
        },
        CLAUDE,
        CLAUDE + "b.md:2",
    ),
    "MC709": (
        {CLAUDE + "a.md": "---\nname: a\ndescription: Use for a.\ntools: Teleport\n---\n"},
        CLAUDE,
        CLAUDE + "a.md:4",
    ),
    "MC710": (
        {CLAUDE + "a.md": "---\nname: a\ndescription: A poet.\n---\n"},
        CLAUDE,
        CLAUDE + "a.md:3",
    ),
    "MC711": (
        {
            "config/agents.yaml": "w:\n  role: W\n  goal: G\n  backstory: B\n",
            "config/tasks.yaml": "t:\n  description: D\n  expected_output: O\n  agent: x\n",
        },
        "config/agents.yaml",
        "config/tasks.yaml:4",
    ),
    "MC713": (
        {CLAUDE + "a.md": "---\nname: a\ndescription: Use for a.\nmodel: gpt\n---\n"},
        CLAUDE,
        CLAUDE + "a.md:4",
    ),
    "MC714": ({"x.agent.yaml": "agent: 3\n"}, "x.agent.yaml", "x.agent.yaml:1"),
    "MC717": (
        {CLAUDE + "b.md": "---\nname: a\ndescription: Use for a.\n---\n"},
        CLAUDE,
        CLAUDE + "b.md:2",
    ),
}


def _where(d: object) -> str:
    span = getattr(d, "span", None)
    return f"{span.file}:{span.line}" if span is not None else "-"


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_case(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, target, where = CASES[code]
    monkeypatch.chdir(tmp_path)
    for rel, text in files.items():
        Path(rel).parent.mkdir(parents=True, exist_ok=True)
        Path(rel).write_text(text, encoding="utf-8")
    result = import_paths([target])
    found = {(d.code, _where(d)) for d in result.diagnostics}
    assert (code, where.rstrip("/")) in found, sorted(found)
    if result.text:
        assert result.ok


def test_mc701_mc712_mc715_mc716(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    big = Path(".kilocodemodes")
    with open(big, "wb") as f:
        f.truncate(12 * 1024 * 1024 + 1)
    assert [d.code for d in import_paths([big]).diagnostics] == ["MC701", "MC714"]
    agents = Path(CLAUDE)
    agents.mkdir(parents=True)
    (agents / "a.md").write_text("---\nname: a\ndescription: Use for reviews.\n---\nA\n")
    (agents / "b.md").write_text("---\nname: b\ndescription: Use for reviews.\n---\nB\n")
    derived = import_paths([agents], derive_keywords=True)
    assert {d.code for d in derived.diagnostics} == {"MC712"}  # no word is only a's or b's
    assert "MC716" in {d.code for d in lint_foreign([agents])}
    mode = Path("m.yaml")
    mode.write_text(import_paths([agents]).text, encoding="utf-8")
    Path("blocked").write_text("a file", encoding="utf-8")
    exported = export_mode(mode, "claude", "blocked")
    assert [d.code for d in exported.diagnostics if d.code.startswith("MC7")] == ["MC715"]


def test_every_mc7_code_has_a_case() -> None:
    covered = set(CASES) | {"MC701", "MC712", "MC715", "MC716"}
    assert covered == {c for c in CODES if c.startswith("MC7")}
