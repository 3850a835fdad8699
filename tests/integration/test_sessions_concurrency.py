"""Many real processes on one database, on SQLite and PostgreSQL: concurrent first starts,
8 x 250 binds on overlapping sessions, and SIGKILL in the middle of binds."""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from modec.runtime.sessions import (
    Action,
    SessionBindingStore,
    ValidationStatus,
    head_revision,
    make_engine,
)

WORKER = Path(__file__).with_name("session_worker.py")
HASHES = [f"sha256:{i:064x}" for i in range(1, 6)]
SESSIONS = [f"session-{i}" for i in range(10)]
PROCESSES = 8
OPS_PER_PROCESS = 250
STARTUP_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _await_ready(proc: subprocess.Popen[str], timeout: float = STARTUP_TIMEOUT) -> None:
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


def _release(procs: list[subprocess.Popen[str]]) -> None:
    """Wait until every worker is ready, then let them all go at once."""
    for proc in procs:
        _await_ready(proc)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, f"worker exited {proc.returncode}:\n{err}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_concurrent_first_starts_migrate_exactly_once(database_url: str) -> None:
    procs = [_spawn("open", database_url) for _ in range(6)]
    _release(procs)
    assert [_result(p)["revision"] for p in procs] == [head_revision()] * 6
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert [v[0] for v in versions] == [head_revision()]


@pytest.mark.slow
def test_eight_processes_binding_overlapping_sessions_lose_and_double_nothing(
    database_url: str,
) -> None:
    with SessionBindingStore(database_url) as store:
        for sid in SESSIONS:
            store.create_session(sid, "/project")

    procs = [
        _spawn(
            "ops",
            database_url,
            str(seed),
            str(OPS_PER_PROCESS),
            ",".join(SESSIONS),
            ",".join(HASHES),
        )
        for seed in range(PROCESSES)
    ]
    _release(procs)
    results = [_result(p) for p in procs]

    assert [r["errors"] for r in results] == [[]] * PROCESSES
    # insert-if-absent under a race: every artifact was inserted by exactly one process
    assert sum(r["inserted"] for r in results) == len(HASHES)
    done: Counter[str] = Counter()
    for r in results:
        done.update(r["done"])
    assert sum(done.values()) == PROCESSES * OPS_PER_PROCESS

    with SessionBindingStore(database_url) as store:
        bindings = {b.session_id: b for b in store.list_bindings()}
        assert sorted(bindings) == sorted(SESSIONS)
        for sid, binding in bindings.items():
            assert binding.mode_hash in HASHES
            assert binding.mode_file == f"mode_{HASHES.index(binding.mode_hash)}.yaml"
            assert binding.validation_status is ValidationStatus.VALID
            stored = store.get_artifact(binding.mode_hash)
            assert stored is not None and stored[1] == binding.mode_hash.encode() * 8
            history = store.history(sid)
            # exactly one history row per successful operation, per session and action
            for action in (Action.BIND, Action.SWITCH):
                rows = [h for h in history if h.action_type is action]
                assert len(rows) == done[f"{sid}/{action.value}"]
            assert len(history) == done[f"{sid}/bind"] + done[f"{sid}/switch"]
            assert all(h.success for h in history)
            # history ids follow binding order: the newest row is the binding in place
            assert (history[-1].mode_file, history[-1].mode_hash) == (
                binding.mode_file,
                binding.mode_hash,
            )


@pytest.mark.slow
def test_sigkill_mid_bind_leaves_the_old_or_the_new_binding(database_url: str) -> None:
    rounds = 12
    rng = random.Random(4)
    with SessionBindingStore(database_url) as store:
        store.create_session("victim", "/project")
        store.bind("victim", "mode_0.yaml", HASHES[0])
        count = 1
        progressed = 0
        for _ in range(rounds):
            proc = _spawn("bind-loop", database_url, "victim", ",".join(HASHES))
            _await_ready(proc)
            time.sleep(rng.uniform(0.0, 0.1))  # where the kill lands, not a verdict
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=RUN_TIMEOUT)
            assert proc.returncode == -signal.SIGKILL

            history = store.history("victim")
            binding = store.get_binding("victim")
            # never missing, never half-written: the binding is the last committed bind, and
            # every committed bind has exactly one history row, in order, without gaps
            assert binding is not None
            assert [h.mode_file for h in history] == [f"mode_{i}.yaml" for i in range(len(history))]
            last = len(history) - 1
            assert (binding.mode_file, binding.mode_hash) == (
                f"mode_{last}.yaml",
                HASHES[last % len(HASHES)],
            )
            assert binding.validation_status is ValidationStatus.VALID
            assert len(history) >= count
            progressed += len(history) > count + 1  # beyond the bind made before "ready"
            count = len(history)

        # the killed writers left no lock behind
        after = store.bind("victim", "after.yaml", HASHES[1], action="switch")
        assert store.get_binding("victim") == after
        assert len(store.history("victim")) == count + 1
    assert progressed >= rounds // 2, "the child was killed before binding too often to tell"
    if database_url.startswith("sqlite"):
        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        finally:
            engine.dispose()
