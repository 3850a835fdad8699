"""A pooled PostgreSQL connection is pinged at checkout only after waiting in the pool
(:func:`modec.runtime.sessions.engine.ping_when_idle`): a connection the server dropped
meanwhile is replaced before any statement is sent, and one in steady use costs no ping.
Against the real server: its backends are terminated with ``pg_terminate_backend``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from modec.runtime.sessions import engine as engine_module
from modec.runtime.sessions.engine import make_engine


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(server: str, pid: int) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            # The backend is gone once the server no longer lists it.
            for _ in range(200):
                listed = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
                if not listed:
                    return
                conn.execute(text("SELECT pg_sleep(0.01)"))
    finally:
        admin.dispose()
    raise AssertionError(f"backend {pid} is still listed")


def _count_pings(engine: Engine) -> list[int]:
    calls = [0]
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        calls[0] += 1
        return real(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return calls


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_is_replaced_before_use(
    pg_engine: Engine, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)  # every checkout has waited
    first = _backend(pg_engine)
    _terminate(postgres_server, first)
    second = _backend(pg_engine)  # pinged, found dead, replaced: no error
    assert second != first


@pytest.mark.postgres
def test_without_the_ping_the_dropped_connection_fails_its_statement(
    pg_engine: Engine, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The converse, which shows the ping is what replaced it above: a connection used
    # within the idle limit is not pinged, so its statement meets the closed socket (and
    # the store would not replay it); the pool then opens a new one.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 3600.0)
    first = _backend(pg_engine)
    _terminate(postgres_server, first)
    with pytest.raises(DBAPIError) as caught:
        _backend(pg_engine)
    assert caught.value.connection_invalidated
    assert _backend(pg_engine) != first


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(pg_engine)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 3600.0)
    for _ in range(20):
        _backend(pg_engine)
    assert pings[0] == 0  # a new connection is not pinged either
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
    for _ in range(20):
        _backend(pg_engine)
    assert pings[0] == 20


@pytest.mark.postgres
def test_an_error_of_the_ping_that_is_not_a_disconnect_is_raised(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend(pg_engine)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
    dbapi = pg_engine.dialect.loaded_dbapi

    def refused(dbapi_connection: Any) -> bool:
        raise dbapi.ProgrammingError("not a disconnect")

    pg_engine.dialect.do_ping = refused  # type: ignore[method-assign]
    with pytest.raises(DBAPIError, match="not a disconnect"):
        _backend(pg_engine)


@pytest.mark.postgres
def test_a_bind_whose_connection_was_dropped_fails_whole_and_the_next_one_binds(
    postgres_url: str, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bind is one statement on a pooled autocommit connection, run on the driver's
    # cursor: a dropped connection is reported as SQLAlchemy reports it (invalidated), not
    # replayed (its outcome would be unknown), and nothing is written.
    from modec.runtime.sessions import SessionBindingStore

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 3600.0)
    with SessionBindingStore(postgres_url) as store:
        sid = store.create_session(None, "/project").session_id
        first = store.bind(sid, "a.yaml", "sha256:" + "a" * 64)
        single = store._own_single
        assert single is not None
        _terminate(postgres_server, _backend(single))
        with pytest.raises(DBAPIError) as caught:
            store.bind(sid, "b.yaml", "sha256:" + "b" * 64)
        assert caught.value.connection_invalidated
        assert store.get_binding(sid) == first  # nothing was written
        second = store.bind(sid, "b.yaml", "sha256:" + "b" * 64)
        assert store.get_binding(sid) == second
        assert second.version > first.version
        assert [h.mode_file for h in store.history(sid)] == ["a.yaml", "b.yaml"]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///modec.db"])
def test_an_autocommit_engine_is_refused_for_sqlite(url: str) -> None:
    # SQLite binds in a BEGIN IMMEDIATE transaction; the flag is PostgreSQL's only.
    with pytest.raises(ValueError, match="PostgreSQL's"):
        make_engine(url, autocommit=True)
