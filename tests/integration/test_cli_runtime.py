"""`modec init`, `modec modes` and `modec session …` through the real command line app, on a
real project directory and database (the default SQLite file, or ``--db``: SQLite and
PostgreSQL). Exit codes: 0 success, 1 errors, 2 usage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modec.cli import app
from modec.compiler.build import bundled_mode_names
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import (
    MIGRATION_TASK,
    TEAM_MODE,
    TEAM_MODE_BROKEN,
    worker_env,
)

project = support.project
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _roles(root: Path) -> Path:
    return root / ".task_orchestrator" / "roles"


def test_init_creates_the_layout_once(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# docs\n")
    code, out, _ = run("init", str(tmp_path))
    assert code == 0
    assert list(_roles(tmp_path).iterdir()) == []  # bundled modes are read in place
    assert "documentation project, default mode documentation_mode.yaml" in out
    assert out.count("created ") == 1  # .gitignore
    code, out, _ = run("init", "--templates", str(tmp_path))  # copied when asked
    assert code == 0
    assert sorted(p.name for p in _roles(tmp_path).iterdir()) == bundled_mode_names()
    assert out.count("created ") == len(bundled_mode_names())
    code, out, _ = run("init", "--templates", str(tmp_path))
    assert code == 0 and "created" not in out
    code, _, _ = run("init", str(tmp_path / "missing"))
    assert code == 2


def test_modes_lists_validity_specialists_and_current_sessions(project: Path) -> None:
    code, out, _ = run("modes", str(project))
    assert code == 0 and "run `modec init`" in out
    assert not (project / ".task_orchestrator").exists()  # listing creates nothing

    run("init", str(project))
    (_roles(project) / "team.yaml").write_text(TEAM_MODE)
    (_roles(project) / "broken.yaml").write_text(TEAM_MODE_BROKEN)
    code, out, _ = run("session", "start", "team.yaml", "--project", str(project), "--id", "s1")
    assert code == 0
    code, out, _ = run("modes", str(project))
    assert code == 1  # a mode in roles/ does not compile
    lines = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line
        for line in out.splitlines()
        if line.strip() and not line.startswith("      ")
    }
    assert lines["team.yaml"].startswith("*") and "sessions: s1" in lines["team.yaml"]
    assert "2 specialists" in lines["team.yaml"]
    assert "INVALID" in lines["broken.yaml"] and "MC004" in out
    assert "(default)" in lines["development_mode.yaml"]

    code, out, _ = run("modes", str(project), "--json")
    doc = json.loads(out)
    modes = {m["name"]: m for m in doc["modes"]}
    assert doc["default_mode"] == "development_mode.yaml"
    assert modes["team.yaml"]["is_current"] and modes["team.yaml"]["sessions"] == ["s1"]
    assert modes["broken.yaml"]["status"] == "invalid" and "MC004" in modes["broken.yaml"]["error"]


def test_a_session_from_start_to_end(project: Path, database_url: str) -> None:
    db = ("--project", str(project), "--db", database_url)
    run("init", str(project))
    (_roles(project) / "team.yaml").write_text(TEAM_MODE)

    code, out, _ = run("session", "start", *db, "--id", "s1", "--json")
    assert code == 0
    assert json.loads(out)["mode_file"] == "development_mode.yaml"
    code, out, _ = run("session", "switch", "s1", "team", *db)
    assert code == 0
    assert "switched session s1 to team.yaml" in out and "backup: " in out
    code, out, _ = run("session", "route", "s1", MIGRATION_TASK, *db)
    assert (code, out.strip()) == (0, "migration_tasks -> auditor (complexity 3, review -)")
    code, out, _ = run("session", "route", "s1", "--title", "x", "--json", *db, "schema change")
    assert json.loads(out)["specialist"] == "auditor"

    code, out, _ = run("session", "show", "s1", *db)
    assert code == 0
    assert "team.yaml" in out and "migration_tasks" in out and "switch" in out
    code, out, _ = run("session", "show", "s1", "--json", *db)
    assert [h["action"] for h in json.loads(out)["history"]] == ["bind", "switch"]

    (_roles(project) / "team.yaml").write_text(TEAM_MODE_BROKEN)
    code, out, err = run("session", "resume", "s1", *db)
    assert code == 0 and "resumed (degraded)" in out and "MC004" in err
    code, out, _ = run("session", "list", *db, "--json")
    [info] = json.loads(out)
    assert info["mode_info"]["validation_status"] == "degraded"
    code, out, _ = run("session", "route", "s1", MIGRATION_TASK, *db)
    assert out.startswith("migration_tasks -> auditor")  # still the last good artifact

    code, out, _ = run("session", "end", "s1", *db)
    assert code == 0 and "session_mode_backup_s1.yaml" in out
    code, out, _ = run("session", "list", *db)
    assert out.strip() == "no active sessions"
    code, _, err = run("session", "route", "s1", "anything", *db)
    assert code == 1
    assert "is terminated" in err and "= help:" in err
    code, out, _ = run("session", "backups", *db, "--json")
    assert [b["backup_reason"] for b in json.loads(out)] == ["terminate", "switch"]


def test_backup_and_restore_from_the_command_line(project: Path) -> None:
    at = ("--project", str(project))
    run("init", str(project))
    (_roles(project) / "team.yaml").write_text(TEAM_MODE)
    run("session", "start", "team.yaml", *at, "--id", "s1")
    code, out, _ = run("session", "backup", "s1", "--name", "keep", *at)
    assert code == 0 and out.strip().endswith("keep.yaml")
    (_roles(project) / "team.yaml").unlink()
    code, out, _ = run(
        "session", "restore", "keep.yaml", "--as", "team_again.yaml", "--activate", *at
    )
    assert code == 0
    assert "switched session s1 to team_again.yaml" in out
    assert (_roles(project) / "team_again.yaml").read_text() == TEAM_MODE
    code, out, _ = run("session", "backup", "--mode", "research_mode.yaml", *at)
    assert code == 0
    code, out, _ = run("session", "backups", *at)
    assert "keep.yaml" in out and "research_mode.yaml" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("session", "bind", "s1", "../../etc/passwd"), 1, "leaves the roles directory"),
        (("session", "bind", "s1", "/etc/passwd"), 1, "absolute path"),
        (("session", "bind", "nobody", "default_roles.yaml"), 1, "does not exist"),
        (("session", "bind", "s1", "no_such_mode"), 1, "available modes"),
        (("session", "start", "--id", "s1"), 1, "already exists"),
        (("session", "backup"), 2, "session id or --mode"),
        (("session", "restore", "nothing.yaml"), 1, "no backup"),
        (("session", "show", "s1", "--db", "mysql://db/x"), 1, "unsupported database"),
        (("session", "route"), 2, "the following arguments are required: SESSION"),
    ],
)
def test_errors_exit_with_a_message_and_a_suggestion(
    project: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    run("session", "start", "--project", str(project), "--id", "s1")
    got, out, err = run(*args, "--project", str(project))
    assert got == code, (out, err)
    assert message in err
    if code == 1:
        assert "= help:" in err


def test_broken_mode_errors_show_the_diagnostics(project: Path) -> None:
    run("init", str(project))
    (_roles(project) / "team.yaml").write_text(TEAM_MODE_BROKEN)
    code, _, err = run("session", "start", "team.yaml", "--project", str(project))
    assert code == 1
    assert "MC004" in err and "--> " in err and "= help: run `modec lint`" in err


def test_the_installed_command_runs_a_session(project: Path, database_url: str) -> None:
    def modec(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modec", *args, "--project", str(project), "--db", database_url],
            capture_output=True,
            text=True,
            env=worker_env(),
            timeout=60,
        )

    started = modec("session", "start", "default_roles.yaml", "--id", "cli")
    assert started.returncode == 0, started.stderr
    routed = modec("session", "route", "cli", "write the user guide")
    assert routed.returncode == 0 and routed.stdout.startswith("documentation_tasks -> ")
    missing = modec("session", "resume", "nobody")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_read_only_commands_create_nothing(project: Path) -> None:
    code, out, _ = run("session", "list", "--project", str(project))
    assert (code, out.strip()) == (0, "no active sessions")
    code, out, _ = run("session", "list", "--project", str(project), "--json")
    assert (code, json.loads(out)) == (0, [])
    code, _, _ = run("modes", str(project), "--json")
    assert code == 0
    assert not (project / ".task_orchestrator").exists()


def test_starting_an_existing_session_says_what_to_do(project: Path) -> None:
    at = ("--project", str(project))
    assert run("session", "start", "--id", "s1", *at)[0] == 0
    code, _, err = run("session", "start", "--id", "s1", *at)
    assert code == 1
    assert "session 's1' already exists" in err
    assert "modec session resume s1" in err and "modec session end s1" in err
