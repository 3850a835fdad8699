"""`modec lint` and `modec schema`: exit codes, formats, and robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modec.cli import app
from tests.conftest import CASES

runner = CliRunner()
MODES = Path(__file__).resolve().parents[2] / "modec" / "modes"
CLEAN = 'task_orchestrator:\n  role_definition: "x"\n'


def lint(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["lint", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_bundled_modes_lint_clean_in_strict_mode() -> None:
    code, out = lint(str(MODES), "--strict")
    assert code == 0, out
    assert "checked 5 file(s): 5 clean" in out


def test_errors_exit_one_with_rustc_style_snippet() -> None:
    code, out = lint(str(CASES / "mc206_unknown_specialist.yaml"))
    assert code == 1
    assert "error[MC206]" in out
    assert f"--> {CASES / 'mc206_unknown_specialist.yaml'}:" in out
    assert "^^^^^^^^^^^" in out
    assert "did you mean 'implementer'?" in out


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text(CLEAN + "  specialist_roles:\n    tester: t\n")
    assert lint(str(f))[0] == 0
    assert lint(str(f), "--strict")[0] == 1


def test_usage_error_exits_two() -> None:
    result = runner.invoke(app, ["lint", "--format", "xml", "x.yaml"])
    assert result.exit_code == 2


def test_json_format_is_machine_readable() -> None:
    code, out = lint(str(CASES / "mc304_duplicate_keyword.yaml"), "--format", "json")
    doc = json.loads(out)
    assert code == 0  # a duplicate keyword (and the analysis findings) are warnings
    assert doc["errors"] == 0 and doc["warnings"] == len(doc["diagnostics"])
    dup = [d for d in doc["diagnostics"] if d["code"] == "MC304"]
    assert len(dup) == 1
    assert (dup[0]["span"]["line"], dup[0]["span"]["column"]) == (18, 9)
    assert dup[0]["severity"] == "warning" and "Bug" in dup[0]["message"]


def test_sarif_format_is_2_1_0() -> None:
    code, out = lint(str(CASES / "many_errors.yaml"), "--format", "sarif")
    doc = json.loads(out)
    assert code == 1
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted(set(rule_ids))
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_cap_says_and_n_more() -> None:
    code, out = lint(str(CASES), "--max-diagnostics", "3")
    assert code == 1
    assert "… and " in out and " more" in out


def test_missing_path_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    code, out = lint(str(tmp_path / "absent.yaml"))
    assert code == 1
    assert "error[MC001]" in out


@pytest.mark.parametrize(
    "data",
    [b"\x00\xff\xfe" * 1000, b"\xef\xbb\xbf" + b"[" * 50_000, b"a: &a [*a]\n", b"- - - -\n" * 1000],
)
def test_hostile_bytes_give_diagnostics(tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "hostile.yaml"
    f.write_bytes(data)
    code, out = lint(str(f))
    assert code == 1
    assert "error[MC" in out


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["$schema"].endswith("2020-12/schema")
    assert "required" not in doc and doc["else"] == {"required": ["task_orchestrator"]}


def test_extends_cannot_follow_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("not_a_mode_but_private: [1, 2, 3]\n")
    modes = tmp_path / "roles"
    modes.mkdir()
    (modes / "shared.yaml").symlink_to(secret)
    (modes / "inside.yaml").write_text(CLEAN + "  specialist_roles: {}\n")
    (modes / "alias.yaml").symlink_to(modes / "inside.yaml")
    mode = modes / "m.yaml"
    mode.write_text("mode_metadata:\n  extends: shared.yaml\n" + CLEAN)
    code, out = lint(str(mode))
    assert code == 1 and "error[MC106]" in out and "outside this folder" in out
    assert "not_a_mode_but_private" not in out
    mode.write_text("mode_metadata:\n  extends: alias.yaml\n" + CLEAN)
    assert lint(str(mode))[0] == 0  # a link that stays in the folder is fine


def test_every_renderer_works_from_the_one_shape() -> None:
    from modec.diagnostics import Diagnostic, Edit, Fix, Related, Span, render_json, render_sarif

    where = Span(file="m.yaml", line=2, column=3, end_line=2, end_column=8)
    other = Span(file="m.yaml", line=5, column=3, end_line=5, end_column=9)
    d = Diagnostic.make(
        "MC602",
        where,
        "rows 'a' and 'b' both match",
        hint="reorder them",
        related=[Related(span=other, message="the other row")],
        fix=Fix(description="use hit policy first", edits=(Edit(span=other, new_text="first"),)),
    )
    [shown] = json.loads(render_json([d]))["diagnostics"]
    assert shown == d.to_dict()
    [result] = json.loads(render_sarif([d]))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 3,
        "endLine": 2,
        "endColumn": 8,
    }
    assert result["relatedLocations"][0]["message"]["text"] == "the other row"
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 5
    [change] = result["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 5, "startColumn": 3, "endLine": 5, "endColumn": 9},
            "insertedContent": {"text": "first"},
        }
    ]
    from modec.diagnostics import render_text

    text = render_text([d], {"m.yaml": "a:\n  rows1: x\n"})
    assert "= note: the other row (m.yaml:5:3)" in text
    assert "= fix available: run `modec lint --fix` (use hit policy first)" in text
    assert text.endswith("1 error(s), 0 warning(s); 1 fixable with `modec lint --fix`")
