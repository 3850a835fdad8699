"""modec in a host's database: a host's own engine, a table prefix, a PostgreSQL schema, and
the host's session ids adopted. Every database test runs on a SQLite file and on PostgreSQL
(a private schema, see conftest.py), beside a host that has its own ``sessions`` and
``alembic_version`` tables."""

from __future__ import annotations

import inspect as pyinspect
import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from modec.diagnostics import InvalidModeError, ModecError, SessionNotActiveError
from modec.runtime.lifecycle import AsyncModeRuntime, ModeRuntime
from modec.runtime.sessions import (
    Action,
    DatabaseNamingError,
    SessionBindingStore,
    head_revision,
    tables,
)
from modec.runtime.sessions.engine import TABLES_ATTRIBUTE, alembic_config

PREFIX = "modec_"
H1 = "sha256:" + "1" * 64
H2 = "sha256:" + "2" * 64
HOST_REVISION = "host_rev_42"
HOST_TABLES = {"sessions", "alembic_version"}


# --------------------------------------------------------------------------- the host


@pytest.fixture
def host_engine(database_url: str) -> Iterator[Engine]:
    """The host's engine, plain ``create_engine`` (no modec configuration), with the host's
    own ``sessions`` table (two rows) and its own Alembic ``alembic_version``."""
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        assert engine.url.database
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sessions (id VARCHAR(64) PRIMARY KEY, owner TEXT)"))
        conn.execute(text("INSERT INTO sessions VALUES ('host-1', 'alice'), ('host-2', 'bob')"))
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text(f"INSERT INTO alembic_version VALUES ('{HOST_REVISION}')"))
    yield engine
    engine.dispose()


def _host_rows(engine: Engine) -> tuple[list[tuple[Any, ...]], list[str]]:
    with engine.connect() as conn:
        sessions = [tuple(r) for r in conn.execute(text("SELECT * FROM sessions ORDER BY id"))]
        versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return sessions, versions


def _table_names(engine: Engine, schema: str | None = None) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names(schema=schema))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'host'\n")
    return root


@pytest.fixture
def extra_schema(postgres_url: str) -> Iterator[str]:
    """The name of a second PostgreSQL schema for modec's tables (dropped afterwards)."""
    name = f"modec_own_{secrets.token_hex(6)}"
    yield name
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- sharing


def test_modec_tables_sit_beside_the_hosts_with_a_prefix(
    host_engine: Engine, project: Path, tmp_path: Path
) -> None:
    before = _host_rows(host_engine)
    with ModeRuntime(
        project, cache_dir=tmp_path / "cache", engine=host_engine, table_prefix=PREFIX
    ) as rt:
        assert rt.sessions.tables.prefix == PREFIX and not rt.sessions.owns_engine
        ctx = rt.adopt("host-1")  # the host's own session id
        assert rt.route(ctx.session_id, "write the user guide").task_type
        started = rt.initialize_session(mode_file="default_roles.yaml")
        assert {s.session_id for s in rt.sessions.list_sessions()} == {
            "host-1",
            started.session_id,
        }
        assert rt.sessions.schema_revision() == head_revision()
    names = tables(PREFIX)
    assert _table_names(host_engine) == HOST_TABLES | names.names
    assert all(n.startswith(PREFIX) for n in names.names)
    assert _host_rows(host_engine) == before  # the host's rows and revision untouched
    with host_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM modec_alembic_version")).scalar_one() == (
            head_revision()
        )
        indexes = [i["name"] for i in inspect(conn).get_indexes("modec_sessions")]
    assert indexes and all(
        str(i).startswith("ix_modec_") or str(i).startswith("uq_modec_") for i in indexes
    )


def test_a_hosts_engine_is_not_disposed_or_reconfigured(
    host_engine: Engine, project: Path, tmp_path: Path
) -> None:
    pool = host_engine.pool
    with host_engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT 1").scalar_one()
    rt = ModeRuntime(project, cache_dir=tmp_path / "cache", engine=host_engine, table_prefix=PREFIX)
    rt.adopt("host-2")
    rt.close()
    assert host_engine.pool is pool  # dispose() would have replaced the pool
    with host_engine.connect() as conn:  # still the host's, still usable
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == before
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 2
        if host_engine.dialect.name == "sqlite":  # no pragma of modec's on the host's connections
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 0
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() != "wal"


@pytest.mark.postgres
def test_modec_in_its_own_postgres_schema_beside_the_hosts_tables(
    postgres_url: str, extra_schema: str, project: Path, tmp_path: Path
) -> None:
    host = create_engine(postgres_url)
    try:
        with host.begin() as conn:
            conn.execute(text("CREATE TABLE sessions (id TEXT PRIMARY KEY)"))
            conn.execute(text("INSERT INTO sessions VALUES ('h')"))
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(text(f"INSERT INTO alembic_version VALUES ('{HOST_REVISION}')"))
            host_schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        with ModeRuntime(
            project,
            cache_dir=tmp_path / "cache",
            engine=host,
            table_prefix=PREFIX,
            schema=extra_schema,
        ) as rt:
            rt.adopt("h")
            assert rt.context("h").mode_file
        assert _table_names(host, extra_schema) == tables(PREFIX, extra_schema).names
        assert _table_names(host, host_schema) == HOST_TABLES
        with host.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
                HOST_REVISION
            )
            sequences = inspect(conn).get_sequence_names(schema=extra_schema)
            assert sequences and all(s.startswith(PREFIX) for s in sequences)
        # without a prefix too: modec's plain "sessions" lives in its schema, the host's in its
        with SessionBindingStore(postgres_url, schema=extra_schema + "_plain") as plain:
            plain.create_session("s", "/p")
            assert plain.get_session("h") is None
        with host.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{extra_schema}_plain" CASCADE'))
    finally:
        host.dispose()


def test_two_prefixes_in_one_database_are_independent(database_url: str) -> None:
    with (
        SessionBindingStore(database_url, table_prefix="a_") as a,
        SessionBindingStore(database_url, table_prefix="b_") as b,
    ):
        a.create_session("s", "/p")
        a.bind("s", "x.yaml", H1)
        assert b.get_session("s") is None
        b.create_session("s", "/q")
        b.bind("s", "y.yaml", H2)
        assert a.get_binding("s").mode_hash == H1  # type: ignore[union-attr]
        assert b.get_binding("s").mode_hash == H2  # type: ignore[union-attr]
        assert [h.id for h in a.history("s")] == [h.id for h in b.history("s")] == [1]


def test_purge_removes_children_on_a_host_engine_without_foreign_keys(
    host_engine: Engine,
) -> None:
    with SessionBindingStore(engine=host_engine, table_prefix=PREFIX) as store:
        store.create_session("gone", "/p")
        store.bind("gone", "a.yaml", H1)
        store.terminate_session("gone")
        ended_before = datetime.now(UTC) + timedelta(days=1)  # any session ended by now
        assert store.purge_sessions(ended_before) == 1
        assert store.get_binding("gone") is None and store.history("gone") == []
        with host_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM modec_mode_usage_history")).scalar() == 0


# --------------------------------------------------------------------------- adoption


def test_adopt_creates_and_binds_an_unknown_host_session(
    database_url: str, project: Path, tmp_path: Path
) -> None:
    with ModeRuntime(project, database_url, tmp_path / "cache", table_prefix=PREFIX) as rt:
        ctx = rt.adopt("host-session-7")
        assert ctx.mode_file == rt.default_mode()
        session = rt.sessions.get_session("host-session-7")
        assert session is not None and session.is_active
        assert session.project_root == str(project.resolve())
        assert [h.action_type for h in rt.history("host-session-7")] == [Action.BIND]
        # adopting again returns the context it has, writing nothing (and switching nothing)
        again = rt.adopt("host-session-7", "research_mode.yaml")
        assert again.mode_hash == ctx.mode_hash
        assert len(rt.history("host-session-7")) == 1
        # a session the host created through modec, unbound: adopt binds it
        rt.sessions.create_session("unbound", project)
        assert rt.adopt("unbound", "research_mode.yaml").mode_file == "research_mode.yaml"
        # bind(adopt=True) adopts too; plain bind still refuses an unknown id
        assert rt.bind("other-host-id", "default_roles.yaml", adopt=True).session_id == (
            "other-host-id"
        )
        with pytest.raises(SessionNotActiveError, match="does not exist"):
            rt.bind("typo", "default_roles.yaml")
        assert rt.sessions.get_session("typo") is None


@pytest.mark.parametrize(
    ("session_id", "problem"),
    [
        ("", "1 to 128 characters"),
        ("x" * 1_000_000, "got 1,000,000"),
        ("host\x00id", "U+0000"),  # PostgreSQL's text cannot hold NUL
        ("host\nid", "U+000A"),
        ("host\ud800", "U+D800"),
    ],
)
def test_a_host_id_that_cannot_name_a_session_is_refused_before_any_statement(
    database_url: str, project: Path, tmp_path: Path, session_id: str, problem: str
) -> None:
    with ModeRuntime(project, database_url, tmp_path / "cache", table_prefix=PREFIX) as rt:
        with pytest.raises(ValueError, match=re.escape(problem)) as caught:
            rt.adopt(session_id)
        assert len(str(caught.value)) < 200  # a huge id is not echoed whole
        with pytest.raises(ValueError, match=re.escape(problem)):
            rt.bind(session_id, "default_roles.yaml", adopt=True)
        assert rt.sessions.list_sessions(active_only=False) == []


def test_adopting_a_terminated_session_is_refused(
    database_url: str, project: Path, tmp_path: Path
) -> None:
    with ModeRuntime(project, database_url, tmp_path / "cache") as rt:
        rt.adopt("h")
        rt.terminate("h")
        for call in (lambda: rt.adopt("h"), lambda: rt.bind("h", "default_roles.yaml", adopt=True)):
            with pytest.raises(SessionNotActiveError, match="terminated") as caught:
                call()
            assert caught.value.suggestion


def test_a_failed_adoption_writes_nothing(database_url: str, project: Path, tmp_path: Path) -> None:
    with ModeRuntime(project, database_url, tmp_path / "cache") as rt:
        (rt.project.roles).mkdir(parents=True, exist_ok=True)
        (rt.project.roles / "broken.yaml").write_text("task_orchestrator: [\n")
        with pytest.raises(InvalidModeError):
            rt.adopt("h", "broken.yaml")
        with pytest.raises(InvalidModeError):
            rt.bind("h", "broken.yaml", adopt=True)
        assert rt.sessions.get_session("h") is None

        # the session row is written in the bind's own transaction: a bind that fails
        # after it (here, in the backup callback under the lock) leaves no session
        def fail(_previous: object) -> None:
            raise RuntimeError("disk gone")

        with pytest.raises(RuntimeError):
            rt.sessions.rebind("h", "a.yaml", H1, before=fail, project_root=project)
        assert rt.sessions.get_session("h") is None and rt.sessions.history("h") == []


def test_concurrent_adoptions_of_one_id_create_one_session_and_one_binding(
    database_url: str,
) -> None:
    with SessionBindingStore(database_url, table_prefix=PREFIX) as store:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: store.adopt("h", "/p", "a.yaml", H1), range(16)))
        assert sum(r.created for r in results) == 1
        assert sum(r.bound for r in results) == 1
        assert {r.binding.version for r in results} == {results[0].binding.version}
        assert [h.action_type for h in store.history("h")] == [Action.BIND]
        # concurrent binds with adoption: one session, every bind recorded once
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(lambda i: store.bind("k", f"m{i}.yaml", H2, project_root="/p"), range(16))
            )
        assert len(store.list_sessions()) == 2
        assert len(store.history("k")) == 16


# --------------------------------------------------------------------------- migrations


def test_migrations_with_a_prefix_upgrade_from_empty_and_are_idempotent(
    host_engine: Engine,
) -> None:
    names = tables(PREFIX)
    with SessionBindingStore(engine=host_engine, table_prefix=PREFIX, migrate=False) as store:
        assert store.schema_revision() is None  # the host's alembic_version is not modec's
        store.upgrade()
        store.upgrade()
        assert store.schema_revision() == head_revision()
        store.create_session("s", "/p")
    with SessionBindingStore(engine=host_engine, table_prefix=PREFIX) as again:
        assert again.get_session("s") is not None
    with host_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": _only(names.names),
                "version_table": names.version_table,
            },
        )
        assert compare_metadata(context, names.metadata) == []
    # downgrade to nothing, through the same names: only modec's tables go
    with host_engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        cfg.attributes[TABLES_ATTRIBUTE] = names
        command.downgrade(cfg, "base")
    assert _table_names(host_engine) == HOST_TABLES | {names.version_table}
    assert _host_rows(host_engine)[1] == [HOST_REVISION]


def _only(allowed: frozenset[str]) -> Any:
    def include_name(name: str | None, kind: str, _parents: Any) -> bool:
        return kind != "table" or name in allowed

    return include_name


@pytest.mark.postgres
def test_migrations_into_a_new_postgres_schema(postgres_url: str, extra_schema: str) -> None:
    for _ in range(2):  # creating the schema, then finding it
        with SessionBindingStore(postgres_url, table_prefix=PREFIX, schema=extra_schema) as store:
            assert store.schema_revision() == head_revision()
            store.bind("s", "a.yaml", H1, project_root="/p")
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            names = tables(PREFIX, extra_schema)
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_schemas": True,
                    "include_name": _schema_only(extra_schema, names.names),
                    "version_table": names.version_table,
                    "version_table_schema": extra_schema,
                },
            )
            assert compare_metadata(context, names.metadata) == []
            assert (
                conn.execute(
                    text(f'SELECT count(*) FROM "{extra_schema}".modec_mode_usage_history')
                ).scalar_one()
                == 2
            )
    finally:
        engine.dispose()


def _schema_only(schema: str, allowed: frozenset[str]) -> Any:
    def include_name(name: str | None, kind: str, _parents: Any) -> bool:
        if kind == "schema":
            return name == schema
        return kind != "table" or name in allowed

    return include_name


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "prefix", ["Modec_", "1x_", "a-b_", "a b", "x" * 17, "ü_", "a;drop table x;", "_a"]
)
def test_bad_table_prefixes_are_refused_with_a_suggestion(
    prefix: str, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(DatabaseNamingError) as caught:
        SessionBindingStore("sqlite://", table_prefix=prefix)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ModecError)
    assert "table prefix" in caught.value.message and caught.value.suggestion
    with pytest.raises(DatabaseNamingError):
        ModeRuntime(project, "sqlite://", tmp_path / "cache", table_prefix=prefix)


@pytest.mark.parametrize("schema", ["", "Public", "pg_mine", "a.b", "x" * 64, 'a"b'])
def test_bad_schema_names_are_refused(schema: str) -> None:
    with pytest.raises(DatabaseNamingError) as caught:
        tables("", schema)
    assert caught.value.suggestion


def test_a_schema_on_sqlite_and_an_engine_with_a_url_are_refused(
    sqlite_file_url: str, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(DatabaseNamingError, match="only PostgreSQL") as caught:
        SessionBindingStore(sqlite_file_url, schema="modec")
    assert "table_prefix" in caught.value.suggestion
    engine = create_engine(sqlite_file_url)
    try:
        with pytest.raises(ValueError, match="not both"):
            ModeRuntime(project, sqlite_file_url, tmp_path / "cache", engine=engine)
        with pytest.raises(ValueError, match="exactly one"):
            SessionBindingStore()
        with pytest.raises(ModecError, match=r"sqlalchemy\.Engine"):
            SessionBindingStore(engine="sqlite://")  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_the_async_runtime_opens_with_the_same_database_options() -> None:
    runtime = pyinspect.signature(ModeRuntime.__init__).parameters
    for method in (AsyncModeRuntime.open, AsyncModeRuntime.__init__):
        params = pyinspect.signature(method).parameters
        for name in ("engine", "table_prefix", "schema"):
            assert (params[name].kind, params[name].default) == (
                runtime[name].kind,
                runtime[name].default,
            ), (method, name)
