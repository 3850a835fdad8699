"""The conventions every command shares (issue 9, item 5): help and metavars, one output
convention, colour, stdin, `--out DIR/`, strict JSON, completion, the pre-commit hook."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from modec.cli import app, build_parser
from modec.cli.output import Output
from modec.compiler.build import bundled_mode_path

ROOT = Path(__file__).resolve().parents[2]
DEV = bundled_mode_path("development_mode.yaml")
assert DEV is not None

# Every command, as the parser knows them: `session` commands by their full name.
COMMANDS = [
    ["lint"],
    ["compile"],
    ["route"],
    ["table"],
    ["test"],
    ["analyse"],
    ["diff"],
    ["schema"],
    ["init"],
    ["modes"],
    ["serve"],
    ["completion"],
    *(
        ["session", c]
        for c in (
            "start",
            "bind",
            "switch",
            "show",
            "route",
            "resume",
            "end",
            "list",
            "backup",
            "backups",
            "restore",
        )
    ),
]
NO_FORMAT = {("schema",), ("serve",), ("completion",)}  # JSON by nature, a protocol, a script


def invoke(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_readable(command: list[str]) -> None:
    for flag in ("-h", "--help"):
        code, out, _ = invoke(*command, flag)
        assert code == 0 and out.startswith("usage: modec " + " ".join(command))
        for python_type in ("<class", "PosixPath", " STR", " INTEGER", "TEXT_", "{"):
            assert python_type not in out, out
    if tuple(command) not in NO_FORMAT:
        assert "--format" in out and "--json" in out and "same as --format json" in out
    assert "--color auto|always|never" in out


def test_the_root_help_lists_every_command() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in (
        "lint",
        "compile",
        "route",
        "table",
        "test",
        "analyse",
        "diff",
        "schema",
        "init",
        "modes",
        "session",
        "serve",
        "completion",
    ):
        assert f"    {name}" in out


def test_json_is_an_alias_of_format_json() -> None:
    a = invoke("route", "-m", str(DEV), "Add a unit test", "--json")
    b = invoke("route", "-m", str(DEV), "Add a unit test", "--format", "json")
    assert a == b and json.loads(a[1])["task_type"] == "testing_tasks"


def test_colour_is_off_when_piped_and_on_when_asked() -> None:
    bad = ["lint", str(ROOT / "tests" / "cases" / "mc206_unknown_specialist.yaml")]
    _, plain, _ = invoke(*bad)
    assert "\x1b[" not in plain  # the runner's stdout is not a terminal
    _, painted, _ = invoke(*bad, "--color", "always")
    assert "\x1b[1;31merror[MC206]\x1b[0m" in painted
    _, never, _ = invoke(*bad, "--color", "never")
    assert never == plain
    _, _, err = invoke("--color", "always", "route", "-m", str(DEV))
    assert err.startswith("\x1b[1;31merror\x1b[0m: route: no task given")


def test_no_color_wins_over_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Output("auto").color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Output("auto").color and Output("always").color
    monkeypatch.delenv("NO_COLOR")
    assert not Output("never").color


def test_lint_reads_stdin_under_the_name_it_is_given(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "cases" / "mc206_unknown_specialist.yaml").read_text()
    code, out, _ = invoke("lint", "-", "--stdin-filename", "roles/mine.yaml", stdin=text)
    assert code == 1 and "--> roles/mine.yaml:" in out and "error[MC206]" in out
    code, out, _ = invoke("lint", "-", stdin=DEV.read_text())
    assert code == 0 and "checked 1 file(s): 1 clean" in out
    # `extends` resolves from the folder of --stdin-filename
    (tmp_path / "base.yaml").write_text(DEV.read_text())
    child = "mode_metadata:\n  extends: base.yaml\n"
    code, out, _ = invoke(
        "lint", "-", "--stdin-filename", str(tmp_path / "child.yaml"), stdin=child
    )
    assert code == 0, out


def test_out_dir_writes_into_the_folder(tmp_path: Path) -> None:
    code, out, _ = invoke("compile", str(DEV), "--out", f"{tmp_path}/")
    assert code == 0 and (tmp_path / "development_mode.modec").is_file()
    assert out.rstrip().endswith(f"-> {tmp_path / 'development_mode.modec'}")
    code, _, err = invoke("schema", "--out", f"{tmp_path}/")
    assert code == 0 and json.loads((tmp_path / "modec.schema.json").read_text())["$schema"]
    assert f"wrote {tmp_path / 'modec.schema.json'}" in err
    code, _, _ = invoke("schema", "--out", str(tmp_path / "named.json"))
    assert code == 0 and (tmp_path / "named.json").is_file()


def test_several_files_need_an_output_folder(tmp_path: Path) -> None:
    code, _, err = invoke("compile", str(DEV.parent), "--out", str(tmp_path / "one.modec"))
    assert code == 2 and "--out must be a folder" in err
    code, _, _ = invoke("compile", str(DEV.parent), "--out", str(tmp_path))
    assert code == 0 and len(list(tmp_path.glob("*.modec"))) == 5


def test_json_output_never_holds_nan_or_infinity(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"description": "x", "metadata": {"score": NaN}}\n'
        '{"description": "x", "metadata": {"score": 1e999}}\n'
        '{"description": "x", "metadata": {"score": -Infinity}}\n'
        '"fine"\n'
    )
    code, out, err = invoke("route", "-m", str(DEV), "--input", str(tasks))
    assert code == 1
    assert [json.loads(line)["line"] for line in err.splitlines()] == [1, 2, 3]
    assert "not a finite JSON number" in err and len(out.splitlines()) == 1
    code, out, err = invoke("diff", str(DEV), str(DEV), "--tasks", str(tasks), "--json")
    assert code == 1 and "tasks.jsonl:1: not a task: NaN is not a finite JSON number" in err
    code, out, _ = invoke("route", "-m", str(DEV), "x", "--metadata", "score=NaN", "--json")
    assert code == 0 and "NaN" not in out.replace('"NaN"', "")  # kept as the text "NaN"
    with pytest.raises(ValueError, match="Out of range float"):
        Output().json({"score": math.nan})


def test_route_needs_a_task() -> None:
    code, _, err = invoke("route", "-m", str(DEV))
    assert code == 2 and "no task given" in err and "--input FILE" in err
    code, _, err = invoke("route", "-m", str(DEV), "--tag", "hotfix")
    assert code == 2
    code, out, _ = invoke("route", "-m", str(DEV), "--title", "refresh", "--json")
    assert code == 0 and json.loads(out)["task_type"]  # a title alone is a task


def test_completion_scripts_know_the_commands() -> None:
    for shell in ("bash", "zsh", "tcsh"):
        code, out, _ = invoke("completion", shell)
        assert code == 0 and "modec" in out
        for name in ("lint", "route", "session", "restore"):
            assert name in out, (shell, name)
        if shell != "tcsh":  # shtab's tcsh script completes commands only
            assert "--stdin-filename" in out
    bash = invoke("completion", "bash")[1]
    done = subprocess.run(["bash", "-n"], input=bash, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr  # a script bash can load


def test_completion_follows_the_parser() -> None:
    names = {a.dest for a in build_parser()._actions}
    assert {"help", "version", "command"} <= names


def test_pre_commit_hook_runs_modec_lint() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "modec-lint"]
    assert hook["entry"].split()[:2] == ["modec", "lint"]
    assert hook["language"] == "python" and hook["files"]
    assert hook.get("pass_filenames", True)
