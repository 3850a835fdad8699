"""Every command against missing, unreadable, binary, huge and non-existent inputs and outputs:
exit 1 or 2, one error line, never a traceback (issue 9, item 5).

The full matrix runs in-process (typer's CliRunner over the real command line); a
representative subset runs as real ``python -m modec`` subprocesses.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modec.cli import app
from modec.compiler.build import bundled_mode_path

DEV = bundled_mode_path("development_mode.yaml")
assert DEV is not None
UNREADABLE = Path("/proc/self/mem")  # exists, and read() fails (EIO) even for root

KINDS = ("missing", "unreadable", "binary", "huge", "folder")

# {IN} is the bad input (with the suffix the command expects), {DEV} a good mode file.
INPUT_COMMANDS = [
    "lint {IN}.yaml",
    "lint {IN}.yaml --fix",
    "lint {IN}.yaml --diff",
    "lint {IN}.yaml --format sarif",
    "compile {IN}.yaml",
    "compile {IN}.yaml --json",
    "route -m {IN}.yaml do-it",
    "route -m {IN}.modec do-it",
    "route -m {DEV} --input {IN}.jsonl",
    "table {IN}.yaml",
    "table {IN}.modec",
    "test {IN}.yaml",
    "test {IN}.yaml --json",
    "analyse {IN}.yaml",
    "diff {IN}.yaml {DEV}",
    "diff {DEV} {IN}.yaml --json",
    "diff {DEV} {DEV} --tasks {IN}.jsonl",
    "init {IN}",
    "modes {IN}",
    "session list --project {IN}",
    "session start --project {IN}",
    "session show s1 --project {IN}",
    "session backups --project {IN}",
    "serve --project {IN}",
]

# {OUT} is an output the command cannot write.
OUTPUTS = {
    "folder-missing": "{TMP}/nowhere/",
    "parent-missing": "{TMP}/nowhere/out.file",
    "unwritable": "/proc/modec-cannot-write-here",
}
OUTPUT_COMMANDS = ["compile {DEV} --out {OUT}", "schema --out {OUT}"]


def make_input(tmp: Path, kind: str, suffix: str) -> Path:
    path = tmp / f"{kind}{suffix}"
    if kind == "unreadable":
        return UNREADABLE
    if kind == "binary":
        path.write_bytes(random.Random(9).randbytes(4096))
    elif kind == "huge":
        path.write_text("description: " + "x" * (3 * 1024 * 1024) + "\n", encoding="utf-8")
    elif kind == "folder" and suffix:
        path.mkdir()
    elif kind == "folder":  # a project folder: stands for a file where one is expected
        path = tmp / "folder.txt"
        path.write_text("a file, not a folder\n")
    return path


def expand(template: str, tmp: Path, kind: str) -> list[str]:
    args = []
    for word in template.split():
        for suffix in (".yaml", ".modec", ".jsonl"):
            if word == "{IN}" + suffix:
                word = str(make_input(tmp, kind, suffix))
        if word == "{IN}":
            word = str(make_input(tmp, kind, ""))
        args.append(word.replace("{DEV}", str(DEV)).replace("{TMP}", str(tmp)))
    return args


def error_lines(text: str) -> list[str]:
    """Lines that report an error: ``error: …``, ``error[MC…]: …``, or a batch's JSON error."""
    found = []
    for line in text.splitlines():
        if line.startswith("error"):
            found.append(line)
        elif line.startswith("{") and '"error"' in line:
            doc = json.loads(line)
            if "error" in doc and "line" in doc:
                found.append(line)
    return found


def document_errors(stdout: str) -> int:
    """The errors a whole-document format reports (lint's JSON and SARIF)."""
    doc = json.loads(stdout)
    if "runs" in doc:
        return sum(r["level"] == "error" for r in doc["runs"][0]["results"])
    return int(doc["errors"])


def check(code: int, stdout: str, stderr: str, args: list[str]) -> None:
    output = stdout + stderr
    assert "Traceback" not in output, (args, output)
    assert code in (1, 2), (args, code, output)
    assert "internal error" not in output, (args, output)
    errors = len(error_lines(output))
    if args[0] == "lint" and ("json" in args or "sarif" in args):
        errors += document_errors(stdout)
    # one mistake, one error line (a warning alone is fine: 'holds no mode file')
    assert errors == 1 or (not errors and "warning:" in stderr), (args, output)


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, input="")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("template", INPUT_COMMANDS)
def test_bad_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str, kind: str
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    monkeypatch.chdir(project)  # nothing a command does may land in the working folder
    args = expand(template, tmp_path, kind)
    code, stdout, stderr = invoke(args)
    check(code, stdout, stderr, args)
    assert not (project / ".task_orchestrator").exists()
    assert not list(tmp_path.glob("missing*"))  # nothing is created where nothing was


@pytest.mark.parametrize("out", sorted(OUTPUTS))
@pytest.mark.parametrize("template", OUTPUT_COMMANDS)
def test_outputs_that_cannot_be_written(tmp_path: Path, template: str, out: str) -> None:
    args = expand(template.replace("{OUT}", OUTPUTS[out]), tmp_path, "missing")
    code, stdout, stderr = invoke(args)
    check(code, stdout, stderr, args)
    assert code == 2
    assert not (tmp_path / "nowhere").exists()  # no folder is created on the way


@pytest.mark.parametrize(
    "args",
    [
        ["lint"],
        ["route"],
        ["route", "-m", str(DEV)],
        ["route", "-m", str(DEV), "--bogus", "x"],
        ["lint", "--format", "xml", "x.yaml"],
        ["test", "--min", "120", "x.yaml"],
        ["session"],
        ["session", "route"],
        ["compile", "--out"],
        ["completion", "fish"],
        ["diff", "a.yaml"],
        ["lint", "--max-diagnostics", "0", "x.yaml"],
        ["route", "-m", str(DEV), "--complexity", "9", "x"],
        ["route", "-m", str(DEV), "--metadata", "novalue", "x"],
    ],
)
def test_usage_errors_are_one_line_exit_two(args: list[str]) -> None:
    code, stdout, stderr = invoke(args)
    assert code == 2, (args, stdout, stderr)
    assert "Traceback" not in stderr and len(error_lines(stderr)) == 1, stderr


def test_a_folder_without_mode_files_is_a_warning_and_exit_one(tmp_path: Path) -> None:
    for command in ("lint", "compile", "test", "analyse"):
        code, _, stderr = invoke([command, str(tmp_path)])
        assert code == 1 and f"warning: {tmp_path} holds no mode file" in stderr, stderr


def run_modec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MODEC_TRACEBACK"}
    return subprocess.run(
        [sys.executable, "-m", "modec", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("template", "kind"),
    [
        ("lint {IN}.yaml", "binary"),
        ("route -m {IN}.modec do-it", "huge"),
        ("route -m {DEV} --input {IN}.jsonl", "unreadable"),
        ("diff {DEV} {DEV} --tasks {IN}.jsonl", "binary"),
        ("session start --project {IN}", "missing"),
        ("compile {DEV} --out {TMP}/nowhere/", "missing"),
        ("schema --out /proc/modec-cannot-write-here", "missing"),
    ],
)
def test_real_processes(tmp_path: Path, template: str, kind: str) -> None:
    args = expand(template, tmp_path, kind)
    done = run_modec(*args, cwd=tmp_path)
    check(done.returncode, done.stdout, done.stderr, args)
    assert done.stderr.strip(), "the error goes to stderr"
