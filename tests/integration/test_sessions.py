"""SessionBindingStore on real databases: schema, migrations, sessions, bindings, history,
artifacts. Every test runs on a SQLite file and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import IntegrityError

from modec.diagnostics import ModecError, SessionNotActiveError
from modec.runtime.sessions import (
    Action,
    Base,
    SessionBindingStore,
    SessionStatus,
    ValidationStatus,
    head_revision,
    make_engine,
)

TABLES = {"sessions", "session_mode_bindings", "mode_usage_history", "compiled_artifacts"}
H1 = "sha256:" + "1" * 64
H2 = "sha256:" + "2" * 64


def _aware_utc(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------- schema


def test_opening_a_store_migrates_an_empty_database_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert TABLES.isdisjoint(inspect(conn).get_table_names())
        with SessionBindingStore(database_url) as store:
            assert store.schema_revision() == head_revision()
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_postgres_tables_live_in_the_private_schema(postgres_url: str) -> None:
    with SessionBindingStore(postgres_url) as store:
        store.create_session("s", "/p")
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            assert schema.startswith("modec_test_")
            assert set(inspect(conn).get_table_names(schema=schema)) == TABLES | {"alembic_version"}
            assert "sessions" not in inspect(conn).get_table_names(schema="public")
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    SessionBindingStore(database_url).dispose()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_keeps_data(database_url: str) -> None:
    with SessionBindingStore(database_url) as first:
        first.create_session("s", "/p")
        first.bind("s", "a.yaml", H1)
        first.upgrade()
        first.upgrade()
    with SessionBindingStore(database_url) as second:
        second.upgrade()
        assert second.schema_revision() == head_revision()
        binding = second.get_binding("s")
        assert binding is not None and binding.mode_hash == H1
        assert len(second.history("s")) == 1


def test_store_without_migration_does_not_create_tables(database_url: str) -> None:
    with SessionBindingStore(database_url, migrate=False) as store:
        assert store.schema_revision() is None
        store.upgrade()
        assert store.schema_revision() == head_revision()


def test_a_database_from_a_newer_modec_is_refused(database_url: str) -> None:
    with SessionBindingStore(database_url) as store:
        engine = make_engine(database_url)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = 'fffffuture'"))
        finally:
            engine.dispose()
        with pytest.raises(ModecError, match="fffffuture"):
            store.upgrade()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_file_url: str) -> None:
    SessionBindingStore(sqlite_file_url).dispose()
    engine = make_engine(sqlite_file_url, busy_timeout=7.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 7500
        with pytest.raises(IntegrityError), engine.begin() as conn:  # foreign keys enforced
            conn.execute(
                text(
                    "INSERT INTO mode_usage_history (session_id, action_type, timestamp, success)"
                    " VALUES ('nobody', 'bind', '2024-01-01 00:00:00', 1)"
                )
            )
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_one_shared_database() -> None:
    with SessionBindingStore("sqlite://") as store:
        store.create_session("s", "/p")
        assert store.get_session("s") is not None


def test_unsupported_backends_are_refused_with_a_suggestion() -> None:
    with pytest.raises(ModecError) as caught:
        SessionBindingStore("mysql://user@localhost/modec")
    assert "SQLite and PostgreSQL" in caught.value.message
    assert caught.value.suggestion


# --------------------------------------------------------------------------- sessions


def test_create_and_get_session(store: SessionBindingStore) -> None:
    created = store.create_session("alpha", "/work/project")
    assert created.status is SessionStatus.ACTIVE and created.is_active
    assert created.project_root == "/work/project"
    assert created.terminated_at is None
    assert _aware_utc(created.created_at) and created.created_at == created.updated_at
    assert abs(datetime.now(UTC) - created.created_at) < timedelta(minutes=1)
    assert store.get_session("alpha") == created
    assert store.get_session("nobody") is None


def test_generated_session_ids_are_unique(store: SessionBindingStore) -> None:
    ids = {store.create_session(None, "/p").session_id for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == 32 for i in ids)


def test_duplicate_session_id_is_refused(store: SessionBindingStore) -> None:
    store.create_session("dup", "/one")
    with pytest.raises(ValueError, match="already exists"):
        store.create_session("dup", "/two")
    session = store.get_session("dup")
    assert session is not None and session.project_root == "/one"


@pytest.mark.parametrize("bad", ["", "x" * 129])
def test_session_id_length_is_checked(store: SessionBindingStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.create_session(bad, "/p")


def test_list_sessions_active_only_by_default(store: SessionBindingStore) -> None:
    for sid in ("a", "b", "c"):
        store.create_session(sid, "/p")
    store.terminate_session("b")
    assert [s.session_id for s in store.list_sessions()] == ["a", "c"]
    everything = store.list_sessions(active_only=False)
    assert [s.session_id for s in everything] == ["a", "b", "c"]
    assert [s.status for s in everything] == [
        SessionStatus.ACTIVE,
        SessionStatus.TERMINATED,
        SessionStatus.ACTIVE,
    ]


def test_terminate_records_history_and_keeps_the_last_binding(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    store.bind("s", "a.yaml", H1)
    ended = store.terminate_session("s")
    assert ended.status is SessionStatus.TERMINATED and not ended.is_active
    assert ended.terminated_at is not None and _aware_utc(ended.terminated_at)
    assert ended.updated_at == ended.terminated_at
    last = store.history("s")[-1]
    assert (last.action_type, last.mode_file, last.mode_hash, last.success) == (
        Action.TERMINATE,
        "a.yaml",
        H1,
        True,
    )
    binding = store.get_binding("s")
    assert binding is not None and binding.mode_hash == H1
    assert store.list_bindings() == []
    assert store.list_bindings(active_only=False) == [binding]


def test_terminate_twice_or_unknown_raises(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    store.terminate_session("s")
    with pytest.raises(SessionNotActiveError, match="terminated"):
        store.terminate_session("s")
    with pytest.raises(SessionNotActiveError, match="does not exist"):
        store.terminate_session("ghost")
    assert [h.action_type for h in store.history("s")] == [Action.TERMINATE]


# --------------------------------------------------------------------------- bindings


def test_first_bind_creates_the_binding_and_one_history_row(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    assert store.get_binding("s") is None
    binding = store.bind("s", "roles/a.yaml", H1)
    assert (binding.session_id, binding.mode_file, binding.mode_hash) == ("s", "roles/a.yaml", H1)
    assert binding.validation_status is ValidationStatus.VALID
    assert binding.bound_at == binding.created_at == binding.updated_at
    assert all(_aware_utc(t) for t in (binding.bound_at, binding.created_at, binding.updated_at))
    assert store.get_binding("s") == binding
    [row] = store.history("s")
    assert (row.action_type, row.mode_file, row.mode_hash, row.success, row.error_message) == (
        Action.BIND,
        "roles/a.yaml",
        H1,
        True,
        None,
    )
    assert row.timestamp == binding.bound_at


def test_switch_replaces_the_binding_and_appends_history(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    first = store.bind("s", "a.yaml", H1)
    second = store.bind("s", "b.yaml", H2, action="switch", validation_status="fallback")
    assert (second.mode_file, second.mode_hash) == ("b.yaml", H2)
    assert second.validation_status is ValidationStatus.FALLBACK
    assert second.created_at == first.created_at
    assert second.bound_at >= first.bound_at and second.updated_at == second.bound_at
    assert store.get_binding("s") == second
    rows = store.history("s")
    assert [(r.action_type, r.mode_hash) for r in rows] == [
        (Action.BIND, H1),
        (Action.SWITCH, H2),
    ]
    assert rows[0].id < rows[1].id


@pytest.mark.parametrize("action", ["bind", "switch", "resume", "fallback"])
def test_every_bind_action_is_recorded_as_given(store: SessionBindingStore, action: str) -> None:
    store.create_session("s", "/p")
    store.bind("s", "a.yaml", H1, action=action)
    assert [h.action_type.value for h in store.history("s")] == [action]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": "validate"}, "bind action"),
        ({"action": "explode"}, "explode"),
        ({"validation_status": "shiny"}, "shiny"),
        ({"mode_file": ""}, "mode file"),
        ({"mode_hash": ""}, "mode hash"),
    ],
)
def test_bind_rejects_bad_arguments_and_writes_nothing(
    store: SessionBindingStore, kwargs: dict[str, str], error: str
) -> None:
    store.create_session("s", "/p")
    arguments = {"mode_file": "a.yaml", "mode_hash": H1} | kwargs
    with pytest.raises(ValueError, match=error):
        store.bind("s", **arguments)
    assert store.get_binding("s") is None
    assert store.history("s") == []


def test_bind_on_a_missing_session_raises(store: SessionBindingStore) -> None:
    with pytest.raises(SessionNotActiveError) as caught:
        store.bind("ghost", "a.yaml", H1)
    assert "ghost" in caught.value.message and caught.value.suggestion
    assert store.get_binding("ghost") is None and store.history("ghost") == []


def test_bind_on_a_terminated_session_raises_and_leaves_it_alone(
    store: SessionBindingStore,
) -> None:
    store.create_session("s", "/p")
    store.bind("s", "a.yaml", H1)
    store.terminate_session("s")
    before = store.history("s")
    for action in ("bind", "switch", "resume", "fallback"):
        with pytest.raises(SessionNotActiveError, match="not active"):
            store.bind("s", "b.yaml", H2, action=action)
    binding = store.get_binding("s")
    assert binding is not None and binding.mode_hash == H1
    assert store.history("s") == before


def test_bindings_of_different_sessions_are_independent(store: SessionBindingStore) -> None:
    store.create_session("a", "/p")
    store.create_session("b", "/p")
    store.bind("a", "a.yaml", H1)
    store.bind("b", "b.yaml", H2)
    assert [(b.session_id, b.mode_hash) for b in store.list_bindings()] == [("a", H1), ("b", H2)]
    assert len(store.history("a")) == len(store.history("b")) == 1


def test_mark_degraded_keeps_the_artifact_and_records_the_error(
    store: SessionBindingStore,
) -> None:
    store.create_session("s", "/p")
    good = store.bind("s", "a.yaml", H1)
    degraded = store.mark_degraded("s", "a.yaml:3:5: MC401 condition syntax error")
    assert degraded.validation_status is ValidationStatus.DEGRADED
    assert (degraded.mode_file, degraded.mode_hash, degraded.bound_at) == (
        good.mode_file,
        good.mode_hash,
        good.bound_at,
    )
    assert degraded.updated_at >= good.updated_at
    assert store.get_binding("s") == degraded
    last = store.history("s")[-1]
    assert (last.action_type, last.success, last.mode_hash) == (Action.VALIDATE, False, H1)
    assert last.error_message == "a.yaml:3:5: MC401 condition syntax error"
    store.mark_degraded("s", "gone", action=Action.RESUME)
    assert store.history("s")[-1].action_type is Action.RESUME


def test_mark_degraded_needs_an_active_bound_session(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    with pytest.raises(LookupError):
        store.mark_degraded("s", "broken")
    with pytest.raises(SessionNotActiveError):
        store.mark_degraded("ghost", "broken")
    assert store.history("s") == []


def test_unbind_removes_the_binding_and_records_it(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    assert store.unbind("s") is None
    assert store.history("s") == []
    bound = store.bind("s", "a.yaml", H1)
    assert store.unbind("s") == bound
    assert store.get_binding("s") is None
    assert [h.action_type for h in store.history("s")] == [Action.BIND, Action.UNBIND]


def test_one_store_is_safe_to_share_between_threads(store: SessionBindingStore) -> None:
    sessions = ["a", "b", "c"]
    for sid in sessions:
        store.create_session(sid, "/p")

    def work(worker: int) -> int:
        for j in range(40):
            store.bind(sessions[(worker + j) % 3], f"m{worker}.yaml", H1, action="switch")
        return 40

    with ThreadPoolExecutor(max_workers=6) as pool:
        total = sum(pool.map(work, range(6)))
    assert sum(len(store.history(sid)) for sid in sessions) == total == 240
    assert len(store.list_bindings()) == 3


# --------------------------------------------------------------------------- history


def test_record_appends_history_without_touching_the_binding(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    binding = store.bind("s", "a.yaml", H1)
    row = store.record("s", "validate", "b.yaml", None, False, "MC206 unknown specialist")
    assert (row.action_type, row.mode_file, row.mode_hash, row.success) == (
        Action.VALIDATE,
        "b.yaml",
        None,
        False,
    )
    assert row.error_message == "MC206 unknown specialist" and _aware_utc(row.timestamp)
    assert store.get_binding("s") == binding
    assert store.history("s")[-1] == row


def test_record_works_on_terminated_but_not_on_missing_sessions(
    store: SessionBindingStore,
) -> None:
    store.create_session("s", "/p")
    store.terminate_session("s")
    store.record("s", Action.UNBIND, None, None, True)
    assert [h.action_type for h in store.history("s")] == [Action.TERMINATE, Action.UNBIND]
    with pytest.raises(SessionNotActiveError):
        store.record("ghost", "validate", None, None, True)
    with pytest.raises(ValueError):
        store.record("s", "explode", None, None, True)


def test_history_is_oldest_first_and_limit_keeps_the_newest(store: SessionBindingStore) -> None:
    store.create_session("s", "/p")
    for i in range(6):
        store.bind("s", f"m{i}.yaml", H1, action="switch" if i else "bind")
    files = [h.mode_file for h in store.history("s")]
    assert files == [f"m{i}.yaml" for i in range(6)]
    assert [h.mode_file for h in store.history("s", limit=2)] == ["m4.yaml", "m5.yaml"]
    stamps = [h.timestamp for h in store.history("s")]
    assert stamps == sorted(stamps)


def test_timestamps_survive_a_round_trip_exactly(database_url: str) -> None:
    with SessionBindingStore(database_url) as store:
        store.create_session("s", "/p")
        bound = store.bind("s", "a.yaml", H1)
    with SessionBindingStore(database_url) as reopened:
        assert reopened.get_binding("s") == bound


# --------------------------------------------------------------------------- artifacts


def test_artifacts_insert_if_absent(store: SessionBindingStore) -> None:
    payload = bytes(range(256)) * 4
    assert store.get_artifact(H1) is None
    assert store.put_artifact(H1, 3, payload) is True
    assert store.get_artifact(H1) == (3, payload)
    assert store.put_artifact(H1, 4, b"other bytes") is False
    assert store.get_artifact(H1) == (3, payload)


def test_artifacts_can_be_deleted_and_replaced(store: SessionBindingStore) -> None:
    store.put_artifact(H1, 1, b"corrupt")
    assert store.delete_artifact(H1) is True
    assert store.delete_artifact(H1) is False
    assert store.get_artifact(H1) is None
    assert store.put_artifact(H1, 1, b"rebuilt") is True
    assert store.get_artifact(H1) == (1, b"rebuilt")


def test_empty_and_large_artifacts(store: SessionBindingStore) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB
    store.put_artifact(H1, 1, b"")
    store.put_artifact(H2, 1, big)
    assert store.get_artifact(H1) == (1, b"")
    assert store.get_artifact(H2) == (1, big)


def test_a_bind_is_one_transaction_of_few_statements(store: SessionBindingStore) -> None:
    """The statements of a rebind, counted as the database sees them: PostgreSQL locks the
    session, then writes the history row and the binding (reading the replaced one) in one
    statement; SQLite (the driver's own trace) begins immediately, touches the session,
    reads, appends, upserts and commits once."""
    store.create_session("s", "/p")
    store.bind("s", "a.yaml", H1)
    store.dispose()  # the next connection is a fresh one, traced from its checkout
    seen: list[str] = []

    def on_execute(*args: object) -> None:
        seen.append(str(args[2]))

    def on_checkout(dbapi_connection: Any, *_: object) -> None:
        if store.dialect == "sqlite":  # every statement SQLite runs, BEGIN and COMMIT too
            dbapi_connection.set_trace_callback(seen.append)

    engine = store.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "checkout", on_checkout)
    try:
        done = store.rebind("s", "b.yaml", H2)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "checkout", on_checkout)
        store.dispose()  # no traced connection stays in the pool
    words = [sql.split()[0] for sql in seen]
    if store.dialect == "sqlite":
        assert words == ["BEGIN", "UPDATE", "SELECT", "INSERT", "INSERT", "COMMIT"], seen
        assert seen[0] == "BEGIN IMMEDIATE"
    else:
        assert words == ["UPDATE", "WITH"], seen
    assert done.previous is not None and done.previous.mode_hash == H1
    assert done.binding.version == done.history.id == store.history("s")[-1].id
    assert store.get_binding("s") == done.binding
    assert store.history("s")[-1] == done.history


def test_a_postgres_bind_is_one_statement_and_refuses_what_rebind_refuses(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bind`` (which reports no replaced binding) is one statement in a transaction of its
    own on PostgreSQL; it refuses missing and terminated sessions and writes nothing then."""
    import psycopg

    from modec.runtime.sessions import engine as engine_module

    # Every statement the driver sends (the bind runs on psycopg's cursor, below
    # SQLAlchemy's events), pings included: none within the idle limit.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 3600.0)
    seen: list[str] = []
    send = psycopg.Cursor.execute

    def recorded(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(query))
        return send(self, query, *args, **kwargs)

    with SessionBindingStore(postgres_url) as store:
        store.create_session("s", "/p")
        store.bind("s", "warm.yaml", H1)  # the pool's first connection: opened, not pinged
        seen.clear()
        monkeypatch.setattr(psycopg.Cursor, "execute", recorded)
        first = store.bind("s", "a.yaml", H1)
        second = store.bind("s", "b.yaml", H2)
        monkeypatch.setattr(psycopg.Cursor, "execute", send)
        assert [sql.split()[0] for sql in seen] == ["WITH", "WITH"]
        assert second.created_at == first.created_at and second.version > first.version
        assert [h.id for h in store.history("s")][1:] == [first.version, second.version]
        store.terminate_session("s")
        with pytest.raises(SessionNotActiveError, match="terminated"):
            store.bind("s", "c.yaml", H1)
        with pytest.raises(SessionNotActiveError, match="does not exist"):
            store.bind("ghost", "c.yaml", H1)
        assert store.get_binding("s") == second
        assert len(store.history("s")) == 4  # bind (warm), bind, bind, terminate
        assert store.get_session("ghost") is None
