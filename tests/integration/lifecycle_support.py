"""Fixtures and helpers shared by the runtime tests (store, lifecycle, recovery, CLI).

Import the fixtures into a test module by name; the database fixtures (``database_url``:
a SQLite file and a private PostgreSQL schema) come from ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modec.runtime.lifecycle import DATABASE_URL_VAR, ModeRuntime

WORKER = Path(__file__).with_name("lifecycle_worker.py")
STARTUP_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0

#: A mode of the project's own (not bundled): a keyword rule of its own, two specialists.
TEAM_MODE = """\
mode_metadata:
  name: team_mode
  description: "A project mode with its own routing"
task_orchestrator:
  role_definition: "You coordinate the team"
  specialist_roles:
    implementer: "Builds features"
    auditor: "Audits changes"
implementer:
  role_definition: "You implement"
auditor:
  role_definition: "You audit"
task_routing_rules:
  security_tasks:
    required_specialist: auditor
  migration_tasks:
    keywords: [migration, schema]
    required_specialist: auditor
  general_tasks:
    required_specialist: implementer
"""

#: TEAM_MODE with a changed meaning: releases go to a new custom role.
TEAM_MODE_EDITED = (
    TEAM_MODE
    + """\
  release_tasks:
    keywords: [release]
    required_specialist: release_manager
release_manager:
  role_definition: "You ship releases"
"""
)

#: TEAM_MODE broken: YAML that does not parse.
TEAM_MODE_BROKEN = TEAM_MODE.replace("task_routing_rules:", "task_routing_rules: [oops")

MIGRATION_TASK = "plan the schema migration"
RuntimeFactory = Callable[..., ModeRuntime]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Python project (``pyproject.toml``); ``MODEC_DATABASE_URL`` unset."""
    monkeypatch.delenv(DATABASE_URL_VAR, raising=False)
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return root


@pytest.fixture
def make_runtime(project: Path, database_url: str, tmp_path: Path) -> Iterator[RuntimeFactory]:
    """Open runtimes on the test database (closed afterwards); by default on ``project``
    with the cache directory ``tmp_path/cache``."""
    opened: list[ModeRuntime] = []

    def factory(root: Path | None = None, cache: Path | None = None, **options: Any) -> ModeRuntime:
        runtime = ModeRuntime(root or project, database_url, cache or tmp_path / "cache", **options)
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        runtime.close()


def write_mode(runtime: ModeRuntime, name: str, text: str) -> Path:
    """Write a mode file into the runtime's ``roles/``."""
    path = runtime.project.roles / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop(DATABASE_URL_VAR, None)
    return env


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(),
    )


def await_ready(proc: subprocess.Popen[str], timeout: float = STARTUP_TIMEOUT) -> None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            proc.kill()
            pytest.fail(f"worker {proc.pid} not ready after {timeout}s")
    line = proc.stdout.readline()
    if line.strip() != "ready":
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
        pytest.fail(f"worker {proc.pid} failed to start: {line!r}\n{err}")


def result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, f"worker exited {proc.returncode}:\n{err}"
    doc: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return doc


def run_worker(*args: str) -> dict[str, Any]:
    """Run a worker to completion and return its JSON result."""
    proc = spawn(*args)
    return result(proc)


def assert_switches_replaced_and_backed_up_once(
    runtime: ModeRuntime, results: list[dict[str, Any]]
) -> int:
    """Check the ``switches`` reported by ``lifecycle_worker.py ops`` processes against
    the database and ``backups/``; return how many switches were checked.

    Per session, ordered by the version each bind wrote (the id of its history row): every
    bind reports as ``previous`` exactly the binding written just before it (the session's
    first binding for the first one), and every binding replaced by a switch is in exactly
    one backup, which names that binding's version; binds without backup leave none.
    """
    by_session: dict[str, list[list[Any]]] = {}
    for r in results:
        for entry in r["switches"]:
            by_session.setdefault(entry[0], []).append(entry)
    backed_up: Counter[tuple[str | None, int | None]] = Counter(
        (b.session_id, b.binding_version) for b in runtime.list_backups() if b.reason == "switch"
    )
    expected: Counter[tuple[str | None, int | None]] = Counter()
    checked = 0
    for sid, entries in by_session.items():
        entries.sort(key=lambda e: e[3])
        first = runtime.history(sid)[0]  # the session's first bind: its version is its row id
        written = [first.id] + [e[3] for e in entries]
        assert len(set(written)) == len(written), f"{sid}: a version was written twice"
        replaced = [e[2] for e in entries]
        assert replaced == written[:-1], f"{sid}: a switch reported a binding it did not replace"
        binding = runtime.sessions.get_binding(sid)
        assert binding is not None and binding.version == written[-1]
        for _, action, previous, _, backup_version, backup_name in entries:
            if action == "switch":
                assert backup_version == previous and backup_name, (sid, previous)
                expected[(sid, previous)] += 1
            else:
                assert backup_version is None and backup_name is None
            checked += 1
    assert backed_up == expected, "a replaced binding was not backed up exactly once"
    return checked
