"""The library functions the command line is a shell over: `modec.runtime.examples` (a mode's
`tests:` examples and their coverage) and `modec.runtime.taskfile` (the one task-file reader)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_path, compile_text
from modec.runtime.examples import example_coverage, run_examples
from modec.runtime.router import load_router
from modec.runtime.taskfile import TaskFileError, iter_task_lines, read_task_file

MODE = """
task_orchestrator: {role_definition: o, specialist_roles: {implementer: i}}
implementer: {role_definition: i}
tests:
  - {task: Add a unit test, expect_type: testing_tasks}
  - {task: Add a unit test, expect_type: general_tasks}
"""


def test_examples_pass_fail_and_serialize() -> None:
    c = compile_text(MODE, "m.yaml")
    assert c.mode is not None and c.artifact is not None
    results = run_examples(c.mode, load_router(c.artifact))
    assert [r.passed for r in results] == [True, False]
    doc = results[1].to_dict()
    assert doc == {
        "location": "m.yaml:6",
        "passed": False,
        "expected": {"task_type": "general_tasks", "specialist": None},
        "got": {"task_type": "testing_tasks", "specialist": "implementer"},
        "error": None,
    }
    json.dumps([r.to_dict() for r in results], allow_nan=False)


def test_coverage_of_a_bundled_mode() -> None:
    path = bundled_mode_path("development_mode.yaml")
    assert path is not None
    c = compile_path(path, display="dev.yaml")
    assert c.mode is not None and c.artifact is not None
    results = run_examples(c.mode, load_router(c.artifact))
    cov = example_coverage(c.mode, results, c.sources, minimum=90)
    doc = cov.to_dict()
    assert (doc["covered"], doc["rows"]) == (7, 8) and doc["percent"] == 87.5
    assert cov.below_minimum and doc["below_minimum"]
    assert [u["name"] for u in doc["uncovered"]] == ["documentation_tasks"]
    assert not example_coverage(c.mode, results, c.sources, minimum=80).below_minimum


def test_task_lines_report_every_bad_line() -> None:
    lines = [
        '"a"',
        "",
        "{oops",
        '{"title": 3}',
        "[1]",
        '{"description": "x", "t": Infinity}',
        '{"title": "fix: x", "complexity": 1}',
    ]
    got = [(t.number, t.task is not None) for t in iter_task_lines(lines)]
    assert got == [(1, True), (3, False), (4, False), (5, False), (6, False), (7, True)]
    bad = {t.number: t.to_dict() for t in iter_task_lines(lines) if t.task is None}
    assert bad[6]["error"] == "Infinity is not a finite JSON number"
    assert "title" in bad[4]["error"]


def test_read_task_file_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('"fine"\n{"complexity": 9}\n"never read"\n', encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"t\.jsonl:2: not a task: complexity"):
        read_task_file(f)
    f.write_bytes(b'"ok"\n\xff\n')
    with pytest.raises(TaskFileError, match="is not UTF-8 text"):
        read_task_file(f)
    with pytest.raises(TaskFileError, match="cannot read"):
        read_task_file(tmp_path / "absent.jsonl")
    f.write_text('"one"\n{"description": "two", "tags": ["x"]}\n', encoding="utf-8")
    assert [t.description for t in read_task_file(f)] == ["one", "two"]
