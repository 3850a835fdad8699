"""`modec lint --fix` and `--diff` through the command line, on real files.

The fixes are the compiler's own (the surface model renames a misspelt key with one close
match); only the bounded-passes test wraps the pipeline, to make a fix that never converges.
Everything is the real command: real files, the real atomic write, the real re-lint.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modec.cli import app
from modec.compiler import pipeline
from modec.compiler.fixes import MAX_FIX_PASSES
from modec.diagnostics import Diagnostic, Edit, Fix, Span

TYPOS = {"priorty": "priority", "required_specilist": "required_specialist"}
MODE = (
    "task_routing_rules:\n"
    "  incident_tasks:\n"
    "    keywords: [outage, incident]\n"
    "    required_specilist: sre\n"
    "    priorty: 5\n"
    "task_orchestrator:\n"
    "  role_definition: o\n"
    "  specialist_roles: {sre: s}\n"
    "sre:\n"
    "  role_definition: s\n"
)


CLEAN = MODE.replace("required_specilist", "required_specialist").replace("priorty", "priority")


@pytest.fixture
def typo_fixes() -> None:
    """The misspelt keys of MODE get the compiler's own MC103 rename fixes (no stand-in)."""


def lint(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["lint", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def mode(tmp_path: Path) -> Path:
    f = tmp_path / "m.yaml"
    f.write_bytes(MODE.replace("\n", "\r\n").encode())  # line ends survive the fix
    f.chmod(0o640)
    return f


def test_text_output_says_a_fix_is_available(typo_fixes: None, mode: Path) -> None:
    code, out, _err = lint(str(mode))
    assert code == 1  # MC103 is an error
    assert "fix available: run `modec lint --fix`" in out
    assert "2 fixable with `modec lint --fix`" in out


def test_diff_shows_every_pass_and_writes_nothing(typo_fixes: None, mode: Path) -> None:
    before = mode.read_bytes()
    code, out, err = lint(str(mode), "--diff")
    assert code == 1  # something to fix
    assert f"--- a/{mode}" in out and f"+++ b/{mode}" in out
    # (the runner shows CRLF as LF; the file keeps CRLF, see below)
    assert "-    required_specilist: sre\n" in out and "+    required_specialist: sre\n" in out
    assert "-    priorty: 5\n" in out and "+    priority: 5\n" in out
    assert "would fix 2 problem(s) in 1 file(s)" in err
    assert mode.read_bytes() == before


def test_fix_rewrites_in_place_atomically(typo_fixes: None, mode: Path) -> None:
    code, _out, err = lint(str(mode), "--fix")
    assert code == 0, err
    assert (
        mode.read_bytes()
        == MODE.replace("required_specilist", "required_specialist")
        .replace("priorty", "priority")
        .replace("\n", "\r\n")
        .encode()
    )
    assert f"fixed {mode}:4:5: MC103 rename 'required_specilist' to 'required_specialist'" in err
    assert f"fixed {mode}:5:5: MC103 rename 'priorty' to 'priority'" in err
    assert "fixed 2 problem(s) in 1 file(s)" in err
    assert stat.S_IMODE(mode.stat().st_mode) == 0o640
    assert sorted(p.name for p in mode.parent.iterdir()) == ["m.yaml"]  # no temporary left
    assert lint(str(mode), "--diff")[0] == 0  # nothing left to fix


def test_fix_on_stdin_prints_the_fixed_text(typo_fixes: None, tmp_path: Path) -> None:
    code, out, err = lint("-", "--fix", "--stdin-filename", str(tmp_path / "x.yaml"), stdin=MODE)
    assert code == 0, err
    assert out == MODE.replace("specilist", "specialist").replace("priorty", "priority")
    assert f"fixed {tmp_path / 'x.yaml'}:4:5" in err
    assert list(tmp_path.iterdir()) == []  # stdin is never written back anywhere


def test_json_and_sarif_carry_the_fix(typo_fixes: None, mode: Path) -> None:
    code, out, _ = lint(str(mode), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["fixable"] == 2
    [typo, _priority] = [d for d in doc["diagnostics"] if d["code"] == "MC103"]
    assert typo["fix"]["edits"][0]["new_text"] == "required_specialist"
    _code, out, _ = lint(str(mode), "--format", "sarif")
    [result, _] = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "MC103"]
    [change] = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == str(mode)
    assert change["replacements"][0]["insertedContent"]["text"] == "required_specialist"
    assert change["replacements"][0]["deletedRegion"]["startLine"] == 4


def test_passes_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = pipeline.run
    passes = []

    def never_done(c: pipeline.Compilation, until: str = "artifact") -> pipeline.Compilation:
        real(c, until)
        passes.append(c.path)
        at = Span(file=c.path, line=1, column=1, end_line=1, end_column=1)
        c.diagnostics.append(
            Diagnostic.make(
                "MC103",
                at,
                "grows",
                fix=Fix(description="prepend", edits=(Edit(span=at, new_text="#\n"),)),
            )
        )
        return c

    monkeypatch.setattr(pipeline, "run", never_done)
    f = tmp_path / "m.yaml"
    f.write_text(CLEAN)
    _code, _, err = lint(str(f), "--fix")
    assert f.read_text() == "#\n" * MAX_FIX_PASSES + CLEAN
    assert f"fixed {MAX_FIX_PASSES} problem(s) in 1 file(s)" in err
    assert len(passes) == MAX_FIX_PASSES + 1  # the first lint, then one per applied pass


def test_fix_and_diff_together_is_a_usage_error(mode: Path) -> None:
    code, _, err = lint(str(mode), "--fix", "--diff")
    assert code == 2 and "not allowed with argument" in err


def test_fix_without_fixes_leaves_files_alone(mode: Path) -> None:
    mode.write_text(CLEAN)
    before = mode.stat().st_mtime_ns, mode.read_bytes()
    code, _, err = lint(str(mode), "--fix")
    assert code == 0 and "fixed 0 problem(s) in 0 file(s)" in err
    assert (mode.stat().st_mtime_ns, mode.read_bytes()) == before


def test_an_unwritable_file_is_one_line_exit_two(
    typo_fixes: None, mode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the suite runs as root, for whom no permission bit refuses a write.
    from modec import fs

    def refuse(path: object, data: bytes, *, exclusive: bool = False) -> Path:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fs, "write_atomic", refuse)
    before = mode.read_bytes()
    code, _, err = lint(str(mode), "--fix")
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: cannot write {mode}: Permission denied",
        "  = help: check that the file and its folder are writable",
    ]
    assert mode.read_bytes() == before


def test_the_issues_from_scratch_file_is_fixed_and_then_routes_the_outage(tmp_path: Path) -> None:
    """Issue 9's file (`hit_polcy`, `required_specilist`): lint names both typos, `--fix`
    fixes both, and the outage task then goes to incident_tasks -> sre."""
    from modec import compile_mode, load_router

    source = Path(__file__).parents[1] / "cases" / "mc103_from_scratch.yaml"
    f = tmp_path / "from_scratch.yaml"
    f.write_bytes(source.read_bytes())
    code, out, _ = lint(str(f))
    assert code == 1 and out.count("error[MC103]") == 2
    code, _, err = lint(str(f), "--fix")
    assert code == 0, err
    text = f.read_text()
    assert "hit_policy: unique" in text and "required_specialist: sre" in text
    decision = load_router(compile_mode(f)).route("Upgrade to the latest SDK during the outage")
    assert (decision.task_type, decision.specialist) == ("incident_tasks", "sre")
