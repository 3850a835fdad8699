"""Regression (issue 15 item 7): concurrent switches backed up the wrong binding.

``switch()`` read the previous binding outside the bind transaction: of 4,000 concurrent
switches, over a thousand reported a previous binding they had not replaced, and hundreds
of replaced bindings were never backed up, or twice. Eight real processes switch and bind
the same few sessions through :class:`~modec.runtime.lifecycle.ModeRuntime` on one database
(a SQLite file, and the real PostgreSQL server); every reported previous binding must be
the one replaced, and every replaced binding backed up exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.lifecycle_support import (
    TEAM_MODE,
    RuntimeFactory,
    assert_switches_replaced_and_backed_up_once,
    await_ready,
    make_runtime,
    project,
    result,
    spawn,
    write_mode,
)

__all__ = ["make_runtime", "project"]  # fixtures

PROCESSES = 8
SWITCHES_PER_PROCESS = 60
SESSIONS = ["hot-0", "hot-1", "hot-2"]
MODES = ["default_roles.yaml", "development_mode.yaml", "research_mode.yaml", "team.yaml"]


@pytest.mark.slow
def test_concurrent_switches_report_and_back_up_exactly_the_binding_they_replaced(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    write_mode(runtime, "team.yaml", TEAM_MODE)
    for sid in SESSIONS:
        runtime.initialize_session(mode_file="default_roles.yaml", session_id=sid)
    procs = [
        spawn(
            "ops",
            str(runtime.project.root),
            database_url,
            str(tmp_path / "cache"),
            str(seed),
            str(SWITCHES_PER_PROCESS),
            ",".join(SESSIONS),
            ",".join(MODES),
        )
        for seed in range(PROCESSES)
    ]
    for proc in procs:
        await_ready(proc)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [result(p) for p in procs]
    assert [r["errors"] for r in results] == [[]] * PROCESSES
    checked = assert_switches_replaced_and_backed_up_once(runtime, results)
    assert checked == PROCESSES * SWITCHES_PER_PROCESS
    switches = sum(1 for r in results for e in r["switches"] if e[1] == "switch")
    assert switches > PROCESSES * SWITCHES_PER_PROCESS // 4  # both kinds really ran
    assert len([b for b in runtime.list_backups() if b.reason == "switch"]) == switches
