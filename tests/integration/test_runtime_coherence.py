"""Regressions of clock and cache coherence (issue 15 item 12) and durability (item 14).

* ``current_session()`` ordered sessions by the creating process's wall clock: a process an
  hour behind made an old session "current". Sessions now carry the database's sequence.
* A session terminated by one process kept routing in another for up to 30 minutes (the
  context TTL). A cached context is now checked against the binding's version once its
  check interval (1 second by default) has passed; the tests move an injected clock, they
  never sleep.
* SQLite ran ``synchronous=NORMAL``; a committed binding must survive a power cut.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from modec.diagnostics import SessionNotActiveError
from modec.runtime.sessions import SessionBindingStore, make_engine
from tests.integration.lifecycle_support import (
    RuntimeFactory,
    make_runtime,
    project,
    run_worker,
)

__all__ = ["make_runtime", "project"]  # fixtures

TASK = "profile the slow endpoint"


def _other_process(runtime_root: Path, url: str, cache: Path, *args: str) -> None:
    assert run_worker("act", str(runtime_root), url, str(cache), *args)["done"] == args[0]


def _set_back(url: str, column: str, session_id: str, *, hours: int) -> None:
    """Move a timestamp of a session back, as a process with a slow clock would write it."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        stmt = f"UPDATE sessions SET {column} = {column} - make_interval(hours => {hours})"
    else:
        stmt = f"UPDATE sessions SET {column} = datetime({column}, '-{hours} hours')"
    try:
        with engine.begin() as conn:
            conn.execute(text(stmt + " WHERE session_id = :sid"), {"sid": session_id})
    finally:
        engine.dispose()


def test_a_session_terminated_by_another_process_stops_routing_after_the_check_interval(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    now = [0.0]
    runtime = make_runtime(clock=lambda: now[0], check_interval=1.0)
    sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    assert runtime.route(sid, TASK).specialist == "performance_optimizer"
    _other_process(runtime.project.root, database_url, tmp_path / "other", "terminate", sid)
    assert runtime.route(sid, TASK).specialist == "performance_optimizer"  # within 1 s
    now[0] += 1.0
    with pytest.raises(SessionNotActiveError):
        runtime.route(sid, TASK)


def test_a_session_rebound_by_another_process_routes_on_the_new_mode_promptly(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    now = [0.0]
    runtime = make_runtime(clock=lambda: now[0])
    sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    ctx = runtime.context(sid)
    now[0] += 5.0
    assert runtime.context(sid) is ctx  # checked: unchanged, kept
    _other_process(
        runtime.project.root, database_url, tmp_path / "other", "bind", sid, "research_mode.yaml"
    )
    now[0] += 1.0
    assert runtime.route(sid, TASK).specialist == "researcher"
    assert runtime.context(sid).binding_version > ctx.binding_version


def test_current_session_follows_the_database_sequence_not_a_process_clock(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime()
    runtime.initialize_session(session_id="older")
    runtime.initialize_session(session_id="newer")
    # the process that created "newer" had a clock one hour behind
    _set_back(database_url, "created_at", "newer", hours=1)
    current = runtime.current_session()
    assert current is not None and current.session_id == "newer"
    assert [s.session_id for s in runtime.sessions.list_sessions()] == ["older", "newer"]
    assert [i.session.session_id for i in runtime.status()] == ["older", "newer"]


def test_session_expiry_terminates_idle_sessions_and_purges_old_ones(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime()
    idle = runtime.initialize_session(session_id="idle").session_id
    busy = runtime.initialize_session(session_id="busy").session_id
    _set_back(database_url, "updated_at", "idle", hours=40 * 24)
    assert runtime.expire_sessions() == [idle]
    assert runtime.sessions.get_session(idle).status.value == "terminated"  # type: ignore[union-attr]
    assert "expired" in (runtime.history(idle)[-1].error_message or "")
    assert [i.session.session_id for i in runtime.status()] == [busy]
    assert runtime.expire_sessions() == []
    runtime.bind(busy, "research_mode.yaml")  # a bind keeps a session alive
    assert runtime.expire_sessions(purge_after=timedelta(0)) == []
    assert runtime.sessions.get_session(idle) is None  # purged, with its history
    assert runtime.history(idle) == []


def test_sqlite_commits_are_durable_synchronous_full(sqlite_file_url: str) -> None:
    with SessionBindingStore(sqlite_file_url) as store:
        engine = make_engine(sqlite_file_url)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        finally:
            engine.dispose()
        assert store.dialect == "sqlite"


def test_the_schema_has_indexes_for_status_current_session_and_expiry(
    store: SessionBindingStore,
) -> None:
    from sqlalchemy import inspect

    engine = make_engine(store._engine.url)  # the same database
    try:
        names = {ix["name"] for ix in inspect(engine).get_indexes("sessions")}
    finally:
        engine.dispose()
    assert {
        "ix_sessions_project_root_status_seq",
        "ix_sessions_status_seq",
        "ix_sessions_status_updated_at",
        "uq_sessions_seq",
    } <= names
