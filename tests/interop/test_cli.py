"""The ``import``, ``export`` and foreign ``lint`` commands (typer's CliRunner, real files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modec.cli import app
from modec.compiler.pipeline import compile_path

CORPUS = Path(__file__).resolve().parent / "corpus"
ROO = "roomodes/RooCodeInc__Roo-Code__.roomodes"

runner = CliRunner()


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(CORPUS, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path / "corpus")
    return tmp_path


def test_import_writes_a_mode_that_compiles(work: Path) -> None:
    out = work / "roo.mode.yaml"
    result = runner.invoke(app, ["import", ROO, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported 7 role(s) from Roo Code" in result.output
    assert compile_path(out, until="check").ok
    again = runner.invoke(app, ["import", ROO, "--out", str(work / "again.yaml")])
    assert again.exit_code == 0
    assert out.read_bytes() == (work / "again.yaml").read_bytes()


def test_import_to_stdout_with_format_and_orchestrator(work: Path) -> None:
    result = runner.invoke(
        app, ["import", "claude", "claude_agents", "--orchestrator", "image-generator"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "# claude_agents/wshobson__agents__plugins__meigen-ai-design__agents__image-"
        "generator.md:2: Claude Code orchestrator 'image-generator'" in result.output
    )


def test_import_derive_keywords_prints_the_held_apart_score(work: Path) -> None:
    result = runner.invoke(app, ["import", ROO, "--derive-keywords", "--out", str(work / "m.yaml")])
    assert result.exit_code == 0, result.output
    assert "derived keywords for translate:" in result.output
    assert "held-apart sentences of its prompt route to it" in result.output


def test_import_of_a_file_the_tool_rejects_exits_1_but_writes_what_it_recovered(work: Path) -> None:
    bad = work / ".roomodes"
    bad.write_text(
        "customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n", encoding="utf-8"
    )
    out = work / "m.yaml"
    result = runner.invoke(app, ["import", str(bad), "--out", str(out), "--format", "json"])
    assert result.exit_code == 1
    assert compile_path(out, until="check").ok
    doc = json.loads(result.output.split("\nimported")[0])
    codes = {d["code"] for d in doc["diagnostics"]}
    assert {"MC703", "MC705"} <= codes


def test_import_usage_errors(work: Path) -> None:
    assert runner.invoke(app, ["import", "claude"]).exit_code == 2
    assert runner.invoke(app, ["import", "nothing-here.md"]).exit_code == 1


def test_export_then_import_back(work: Path) -> None:
    mode = work / "claude.mode.yaml"
    assert runner.invoke(app, ["import", "claude_agents", "--out", str(mode)]).exit_code == 0
    out = work / "exported"
    result = runner.invoke(app, ["export", str(mode), "--to", "roo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    roomodes = (out / ".roomodes").read_text(encoding="utf-8")
    assert "modec routes here when: metadata.subagent_type ==" in roomodes
    assert (
        "modec routes here (priority" not in roomodes
    )  # the files' order already gives modec's row order
    assert "modec routes here when no other rule matches." not in roomodes  # main_thread
    back = runner.invoke(app, ["import", str(out / ".roomodes")])
    assert back.exit_code == 0, back.output
    assert "bmm_api_documenter:" in back.output


def test_export_refuses_a_bad_mode_and_unknown_target(work: Path) -> None:
    bad = work / "bad.yaml"
    bad.write_text("nothing: here\n", encoding="utf-8")
    assert runner.invoke(app, ["export", str(bad), "--to", "roo"]).exit_code == 1
    assert runner.invoke(app, ["export", str(bad), "--to", "vim"]).exit_code == 2


def test_export_write_failure_changes_nothing(work: Path) -> None:
    mode = work / "m.yaml"
    assert runner.invoke(app, ["import", "claude_agents", "--out", str(mode)]).exit_code == 0
    blocker = work / "out"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    result = runner.invoke(app, ["export", str(mode), "--to", "claude", "--out", str(blocker)])
    assert result.exit_code == 1 and "MC715" in result.output
    assert blocker.read_text(encoding="utf-8") == "a file where the folder should be"


def test_lint_of_a_foreign_folder(work: Path) -> None:
    result = runner.invoke(app, ["lint", "claude_agents"])
    assert result.exit_code == 0, result.output
    assert "MC709" in result.output and "modec import claude_agents" in result.output
    kilo = runner.invoke(app, ["lint", "kilocode", "--format", "json"])
    assert kilo.exit_code == 0
    assert {d["code"] for d in json.loads(kilo.output)["diagnostics"]} >= {"MC710", "MC716"}


def test_export_writes_priorities_when_file_order_would_change_row_order(work: Path) -> None:
    mode = work / "m.yaml"
    mode.write_text(
        """task_orchestrator:
  role_definition: Routes.
  specialist_roles: {b_role: B, a_role: A}
b_role: {role_definition: B}
a_role: {role_definition: A}
task_routing_rules:
  first_tasks: {keywords: [alpha], required_specialist: a_role}
  second_tasks: {keywords: [beta], required_specialist: b_role}
  third_tasks: {keywords: [gamma], required_specialist: a_role}
  general_tasks: {required_specialist: b_role}
""",
        encoding="utf-8",
    )
    out = work / "exported"
    assert (
        runner.invoke(app, ["export", str(mode), "--to", "claude", "--out", str(out)]).exit_code
        == 0
    )
    a_text = (out / ".claude/agents/a-role.md").read_text(encoding="utf-8")
    assert 'modec routes here (priority 3) when: description contains any("alpha")' in a_text
    assert 'modec routes here (priority 1) when: description contains any("gamma")' in a_text
    b_text = (out / ".claude/agents/b-role.md").read_text(encoding="utf-8")
    assert "modec routes here when no other rule matches." in b_text


def test_export_of_a_merged_mode_keeps_agent_names_unique(work: Path) -> None:
    mode = work / "all.mode.yaml"
    assert runner.invoke(app, ["import", ".", "--out", str(mode)]).exit_code == 0
    for to in ("roo", "claude"):
        out = work / to
        assert (
            runner.invoke(app, ["export", str(mode), "--to", to, "--out", str(out)]).exit_code == 0
        )
        back = runner.invoke(app, ["import", str(out), "--out", str(work / f"{to}.yaml")])
        assert back.exit_code == 0, back.output  # Roo would reject duplicate slugs
        assert "imported 56 role(s)" in back.output
