"""Engines, retries and migrations of the session database.

:func:`make_engine` configures SQLite (WAL journal, ``synchronous=FULL``: a committed
transaction is on disk before ``COMMIT`` returns, so a power cut loses no binding;
``busy_timeout``; foreign keys; ``BEGIN IMMEDIATE`` for writes) and PostgreSQL (psycopg 3;
a connection that waited in the pool is pinged before use). :func:`retrying` is the one
retry policy of the store (tenacity: jittered exponential backoff, bounded attempts) for
transient failures (:func:`is_transient`). The Alembic helpers locate the shipped migrations.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import tenacity
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import StaticPool

from modec.diagnostics import ModecError

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "SUPPORTED_DIALECTS",
    "TABLES_ATTRIBUTE",
    "WRITE_OPTION",
    "alembic_config",
    "cannot_write_files",
    "check_host_engine",
    "head_revision",
    "host_writer",
    "is_transient",
    "known_revisions",
    "make_engine",
    "read_only_engine",
    "retrying",
    "sqlite_url",
]

#: Dialects whose upserts, locks and retries this package implements and tests.
SUPPORTED_DIALECTS: Final = frozenset({"sqlite", "postgresql"})

DEFAULT_BUSY_TIMEOUT: Final = 10.0  # seconds a SQLite writer waits for the lock
DEFAULT_MAX_ATTEMPTS: Final = 8
_FIRST_BACKOFF: Final = 0.005
_MAX_BACKOFF: Final = 0.5
#: Execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION: Final = "modec_write"
#: ``Config.attributes`` key of the :class:`~modec.runtime.sessions.schema.Tables` a
#: migration creates (absent: the default, unprefixed tables).
TABLES_ATTRIBUTE: Final = "modec_tables"
_RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6

#: Called before each retry with the attempt number that failed and its exception.
RetryHook = Callable[[int, BaseException], None]


def retrying(
    max_attempts: int,
    retry_if: Callable[[BaseException], bool],
    on_retry: RetryHook | None = None,
) -> tenacity.Retrying:
    """The retry policy: up to ``max_attempts`` attempts while ``retry_if`` holds for the
    failure, sleeping a jittered exponential backoff (5 ms doubling, at most 0.5 s) between
    them, the last failure re-raised; ``on_retry`` hears of each retry (tests, logs)."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(state.attempt_number, exc)

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=tenacity.wait_random_exponential(multiplier=_FIRST_BACKOFF, max=_MAX_BACKOFF),
        retry=tenacity.retry_if_exception(retry_if),
        before_sleep=before_sleep,
        reraise=True,
    )


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path`` (made absolute).

    >>> sqlite_url("/var/lib/modec/modec.db")
    'sqlite:////var/lib/modec/modec.db'
    """
    return "sqlite:///" + str(Path(path).resolve())


def _normalized_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver modec installs
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise ModecError(
            f"unsupported database {parsed.render_as_string(hide_password=True)!r}: "
            f"the session store runs on SQLite and PostgreSQL, not {backend}",
            suggestion="use a sqlite:///path/to/modec.db or postgresql+psycopg://… URL",
        )
    return parsed


def _sqlite_file(url: URL) -> str | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _configure_sqlite(engine: Engine, *, busy_timeout: float, wal: bool) -> None:
    busy_ms = int(busy_timeout * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (see on_begin), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                _enable_wal(cursor, busy_timeout)
                # FULL: WAL is synced on every commit, so a committed binding survives a
                # power cut, not only a process crash (NORMAL syncs at checkpoints only).
                cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        # Writes take the write lock up front. Reads are single statements, each atomic on
        # its own, so they run without BEGIN (half the round trips of a read). BEGIN goes to
        # the driver directly: it is not a statement SQLAlchemy needs to know about.
        if conn.get_execution_options().get(WRITE_OPTION):
            _begin_immediate(conn)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE`` on the driver connection of a write transaction, unless the
    driver has begun one already (a host's engine may run its own BEGIN)."""
    driver = conn.connection.driver_connection
    if driver is None or driver.in_transaction:
        return
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:  # as SQLAlchemy would have wrapped it
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc


def check_host_engine(engine: Engine) -> Engine:
    """``engine`` if the store can run on it (SQLite or PostgreSQL, any driver); raises
    :class:`~modec.diagnostics.ModecError` otherwise."""
    if not isinstance(engine, Engine):
        raise ModecError(
            f"engine must be a sqlalchemy.Engine, got {type(engine).__name__}",
            suggestion="pass sqlalchemy.create_engine(...) (an AsyncEngine's .sync_engine "
            "for asyncio hosts)",
        )
    backend = engine.dialect.name
    if backend not in SUPPORTED_DIALECTS:
        raise ModecError(
            f"unsupported database engine {backend!r}: the session store runs on SQLite and "
            "PostgreSQL",
            suggestion="pass an engine of a sqlite:// or postgresql:// URL",
        )
    return engine


def host_writer(engine: Engine) -> Engine:
    """The engine the store writes through on a host's ``engine``: the same pool and
    connections (nothing of the host's engine is reconfigured: no connect events, no
    pragmas, no pool options), marked as a write transaction. On SQLite a listener local to
    this copy begins modec's write transactions with ``BEGIN IMMEDIATE`` when the driver has
    not begun one itself; the host's own transactions are untouched."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    if engine.dialect.name == "sqlite":
        event.listen(writer, "begin", _begin_immediate)
    return writer


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    # Switching a fresh file to WAL needs a moment of exclusive access, and the busy handler
    # does not cover it; several processes opening a new database at once must wait in turn.
    def switch() -> None:
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")

    policy = retrying(1_000_000, _busy_error).copy(stop=tenacity.stop_after_delay(busy_timeout))
    policy(switch)


def _busy_error(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and _sqlite_busy(exc)


def make_engine(
    url: str | URL, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, autocommit: bool = False
) -> Engine:
    """An engine configured the way the store needs it.

    SQLite: the parent directory of the file is created; every connection gets
    ``busy_timeout``, ``foreign_keys=ON``, and (for files) ``journal_mode=WAL`` with
    ``synchronous=FULL`` (durable on commit, across power cuts too);
    transactions are begun by SQLAlchemy, ``BEGIN IMMEDIATE`` for writes. ``sqlite://`` is one
    shared in-memory database. PostgreSQL: ``postgresql://`` means psycopg 3; a connection
    idle in the pool for :data:`PING_AFTER_IDLE` seconds or more is pinged before use
    (:func:`ping_when_idle`); with ``autocommit``, its connections are opened in autocommit
    mode and stay in it (a pool of their own, for statements that are a transaction each:
    no isolation level set and reset around every checkout, nothing to roll back at
    checkin). Raises :class:`~modec.diagnostics.ModecError` for other backends.
    """
    parsed = _normalized_url(url)
    if autocommit and parsed.get_backend_name() == "sqlite":
        raise ValueError("autocommit engines are PostgreSQL's (SQLite binds in a transaction)")
    if parsed.get_backend_name() == "sqlite":
        file = _sqlite_file(parsed)
        if file is None:
            engine = create_engine(
                parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            Path(file).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout})
        _configure_sqlite(engine, busy_timeout=busy_timeout, wal=file is not None)
        return engine
    engine = (
        create_engine(parsed, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
        if autocommit
        else create_engine(parsed)
    )
    ping_when_idle(engine)
    return engine


#: Seconds a pooled PostgreSQL connection may wait in the pool and be used without a ping.
PING_AFTER_IDLE: Final = 1.0
_IDLE_SINCE: Final = "modec_idle_since"


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout when it has waited in the pool
    :data:`PING_AFTER_IDLE` seconds or more (read at each checkout): a dead one
    (a server restart, an idle-session timeout) is replaced before any statement is sent,
    as SQLAlchemy's ``pool_pre_ping`` does, while a connection in steady use (a bind loop)
    saves that round trip on every transaction. A new connection needs no ping.

    A connection that dies while in use, or within that time of its last use, fails
    its statement: the store does not replay a transaction whose outcome is unknown
    (:func:`is_transient`), as with ``pool_pre_ping``, whose ping can precede the death too.
    """

    @event.listens_for(engine, "connect")
    def connected(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            # The pool discards the connection and checks out another (a few times).
            raise DisconnectionError("the pooled connection is gone")


_SQLITE_IOERR: Final = 10
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14


def cannot_write_files(exc: BaseException) -> bool:
    """True for a SQLite failure to create or grow its files (a full disk, a file size
    limit, a read-only folder): reading may still work through :func:`read_only_engine`."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN)
    message = str(orig).lower()
    return "disk i/o error" in message or "disk is full" in message


def read_only_engine(url: str | URL, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """A read-only engine on the SQLite file of ``url`` that writes nothing at all, not even
    the WAL index (``immutable``): for reading when no file can be written. SQLite removes
    the WAL when its last connection closes, so when the index cannot be created there is
    no other connection and the file itself holds every committed transaction."""
    file = _sqlite_file(_normalized_url(url))
    if file is None:
        raise ValueError("a read-only engine needs a SQLite file")
    uri = "file:" + Path(file).resolve().as_posix() + "?mode=ro&immutable=1"
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=busy_timeout, check_same_thread=False
        ),
    )
    _configure_sqlite(engine, busy_timeout=busy_timeout, wal=False)
    return engine


def _sqlite_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def is_transient(exc: BaseException) -> bool:
    """True for failures that roll the transaction back and succeed when simply retried."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return False  # the outcome of the transaction is unknown; never replay blindly
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and _sqlite_busy(orig)


# --------------------------------------------------------------------------- migrations


@functools.cache
def _script_location() -> str:
    return str(importlib.resources.files("modec.runtime") / "migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _script_location().replace("%", "%%"))
    return cfg


@functools.cache
def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _script_directory().walk_revisions())


def head_revision() -> str:
    """The Alembic revision that the shipped migrations end at."""
    head = _script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise ModecError("modec's schema migrations are missing from the installation")
    return head
