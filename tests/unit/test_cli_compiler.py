"""`modec compile`, `route`, `test` and `table` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modec.cli import app

runner = CliRunner()
MODES = Path(__file__).resolve().parents[2] / "modec" / "modes"
DEV = MODES / "development_mode.yaml"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_compile_writes_an_artifact_the_router_loads(tmp_path: Path) -> None:
    out = tmp_path / "dev.modec"
    code, stdout, _ = run("compile", str(DEV), "--out", str(out))
    assert code == 0
    assert "sha256:" in stdout and "rows" in stdout
    code, stdout, _ = run(
        "route", "--mode", str(out), "--title", "fix: boom", "--complexity", "2", "crash", "--json"
    )
    assert code == 0
    assert json.loads(stdout)["task_type"] == "hotfix_tasks"


def test_compile_json_reports_stages(tmp_path: Path) -> None:
    code, stdout, _ = run("compile", str(MODES), "--json")
    assert code == 0
    docs = [json.loads(line) for line in stdout.splitlines()]
    assert len(docs) == 5 and all(d["ok"] and d["mode_hash"].startswith("sha256:") for d in docs)
    assert set(docs[0]["stages"]) == {"load", "build", "check", "table", "artifact"}


def test_compile_invalid_file_exits_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("task_orchestrator: [1]\n")
    code, _, stderr = run("compile", str(bad))
    assert code == 1
    assert "error[MC101]" in stderr


def test_corrupt_artifact_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "dev.modec"
    assert run("compile", str(DEV), "-o", str(out))[0] == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    code, _, stderr = run("route", "--mode", str(out), "anything")
    assert code == 1
    assert "checksum" in stderr


def test_route_explain_lists_every_row() -> None:
    code, stdout, _ = run("route", "-m", str(DEV), "Add a unit test", "--explain")
    assert code == 0
    assert "testing_tasks" in stdout and "← taken" in stdout
    assert stdout.count("✘") >= 3


def test_route_metadata_and_tags() -> None:
    doc_mode = MODES / "documentation_mode.yaml"
    code, stdout, _ = run(
        "route",
        "-m",
        str(doc_mode),
        "--title",
        "refresh",
        "--metadata",
        "path=docs/README.md",
        "--json",
    )
    assert code == 0 and json.loads(stdout)["task_type"] == "readme_tasks"
    code, stdout, _ = run("route", "-m", str(DEV), "--tags", "hotfix", "x", "--json")
    assert json.loads(stdout)["specialist"] == "debugger"


def test_route_rejects_bad_options() -> None:
    assert run("route", "-m", str(DEV), "--metadata", "novalue", "x")[0] == 2
    assert run("route", "-m", str(DEV), "--complexity", "9", "x")[0] == 2


def test_route_batch_from_json_lines_keeps_going_past_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps("Add a unit test"),
        "{not json",
        json.dumps({"title": 3}),
        json.dumps({"title": "fix: x", "complexity": 1}),
        "",
    ]
    batch = tmp_path / "tasks.jsonl"
    batch.write_text("\n".join(lines), encoding="utf-8")
    code, stdout, stderr = run("route", "-m", str(DEV), "--input", str(batch))
    assert code == 1
    types = [json.loads(line)["task_type"] for line in stdout.splitlines()]
    assert types == ["testing_tasks", "hotfix_tasks"]
    assert [json.loads(line)["line"] for line in stderr.splitlines()] == [2, 3]


def test_route_batch_from_stdin() -> None:
    code, stdout, _ = run(
        "route", "-m", str(DEV), "--input", "-", stdin=json.dumps("write the user guide") + "\n"
    )
    assert code == 0 and json.loads(stdout)["task_type"] == "documentation_tasks"


def test_test_command_passes_bundled_modes() -> None:
    code, stdout, _ = run("test", str(MODES))
    assert code == 0
    assert stdout.strip().endswith("0 failed")


def test_test_command_shows_expected_got_and_trace(tmp_path: Path) -> None:
    mode = tmp_path / "m.yaml"
    mode.write_text(
        "task_orchestrator:\n  role_definition: o\n  specialist_roles: {implementer: i}\n"
        "implementer:\n  role_definition: i\n"
        "tests:\n  - task: Add a unit test\n    expect_type: general_tasks\n",
        encoding="utf-8",
    )
    code, stdout, _ = run("test", str(mode))
    assert code == 1
    assert "FAIL" in stdout and "expected type general_tasks" in stdout
    assert "got      type testing_tasks" in stdout and "← taken" in stdout
    assert stdout.strip().endswith("0 passed, 1 failed")


def test_table_formats() -> None:
    code, stdout, _ = run("table", str(DEV), "--format", "markdown")
    assert code == 0 and stdout.splitlines()[0].startswith("| # | task type |")
    assert "| * | general_tasks |" in stdout
    code, stdout, _ = run("table", str(DEV), "--format", "html")
    assert stdout.startswith('<table class="modec-table">') and "&quot;hotfix&quot;" in stdout
    code, stdout, _ = run("table", str(DEV), "--format", "json")
    assert json.loads(stdout)["rows"][0]["name"] == "hotfix_tasks"
    code, stdout, _ = run("table", str(DEV))
    assert code == 0 and "hotfix_tasks" in stdout
