"""Sessions, their mode bindings, the usage history and the shared artifact table, in SQL.

This is the only module in modec that builds SQL. It defines the schema as SQLAlchemy 2 typed
ORM models and :class:`SessionBindingStore`, the one object the runtime uses to read and write
it. The schema itself is created and upgraded only by the Alembic migrations shipped in
``modec/runtime/migrations/``; a store runs them when it opens a database.

Backends: SQLite (the default: a file, WAL journal, ``busy_timeout``, foreign keys on) and
PostgreSQL (``postgresql+psycopg://…``). Both are safe for many processes and machines at once:

* every write is one transaction; a bind upserts the binding row and appends exactly one
  history row in the same transaction, so a crash leaves the old binding or the new one;
* upserts and insert-if-absent use ``INSERT … ON CONFLICT``, which is race-free on both;
* on SQLite, write transactions start with ``BEGIN IMMEDIATE`` (so they queue on the busy
  handler instead of failing on a stale read snapshot); on PostgreSQL a bind holds a share lock
  on its session row, so a concurrent terminate waits for it;
* transient failures (SQLite "database is locked", PostgreSQL serialization failures and
  deadlocks) are retried with bounded, jittered exponential backoff;
* concurrent first starts migrate once: PostgreSQL under a transaction-level advisory lock,
  SQLite inside one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional).

Timestamps are timezone-aware UTC on the way in and on the way out, on both backends.

>>> store = SessionBindingStore("sqlite://")
>>> s = store.create_session("s1", project_root="/tmp/project")
>>> b = store.bind("s1", "default_roles.yaml", "sha256:" + "0" * 64)
>>> (b.mode_file, b.validation_status.value)
('default_roles.yaml', 'valid')
>>> [h.action_type.value for h in store.history("s1")]
['bind']
>>> store.dispose()
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Final, TypeAlias, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Dialect,
    Engine,
    Executable,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from modec.diagnostics import ModecError, SessionNotActiveError

__all__ = [
    "BIND_ACTIONS",
    "SUPPORTED_DIALECTS",
    "Action",
    "ArtifactRow",
    "Base",
    "BindingRecord",
    "BindingRow",
    "HistoryRecord",
    "HistoryRow",
    "SessionBindingStore",
    "SessionRecord",
    "SessionRow",
    "SessionStatus",
    "ValidationStatus",
    "head_revision",
    "make_engine",
    "sqlite_url",
]

_T = TypeVar("_T")
_AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"

#: Dialects whose upserts, locks and retries this module implements and tests.
SUPPORTED_DIALECTS: Final = frozenset({"sqlite", "postgresql"})

_DEFAULT_BUSY_TIMEOUT: Final = 10.0  # seconds a SQLite writer waits for the lock
_DEFAULT_MAX_ATTEMPTS: Final = 8
_FIRST_BACKOFF: Final = 0.005
_MAX_BACKOFF: Final = 0.5
_WRITE_OPTION: Final = "modec_write"
_RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6


# --------------------------------------------------------------------------- vocabulary


class SessionStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


class ValidationStatus(StrEnum):
    """How trustworthy a binding is: the mode file compiled (``valid``); it broke and the
    session routes on its last good artifact (``degraded``); or the default mode was bound
    because no artifact could be found (``fallback``)."""

    VALID = "valid"
    DEGRADED = "degraded"
    FALLBACK = "fallback"


class Action(StrEnum):
    """The ``action_type`` of a history row."""

    BIND = "bind"
    SWITCH = "switch"
    VALIDATE = "validate"
    UNBIND = "unbind"
    RESUME = "resume"
    FALLBACK = "fallback"
    TERMINATE = "terminate"


#: Actions that write a binding (:meth:`SessionBindingStore.bind`).
BIND_ACTIONS: Final = frozenset({Action.BIND, Action.SWITCH, Action.RESUME, Action.FALLBACK})


def _one_of(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


# --------------------------------------------------------------------------- models


class _UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only accepts aware datetimes and always returns UTC.

    SQLite has no time zone type, so values are stored there as naive UTC and re-labelled UTC
    on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: modec stores timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the session schema; ``Base.metadata`` is Alembic's target."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: _UTCDateTime()}


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint(f"status IN ({_one_of(SessionStatus)})", name="status"),)

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    project_root: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    terminated_at: Mapped[datetime | None]


class BindingRow(Base):
    __tablename__ = "session_mode_bindings"
    __table_args__ = (
        CheckConstraint(
            f"validation_status IN ({_one_of(ValidationStatus)})", name="validation_status"
        ),
    )

    session_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("sessions.session_id", ondelete="CASCADE"), primary_key=True
    )
    mode_file: Mapped[str] = mapped_column(Text)
    bound_at: Mapped[datetime]
    validation_status: Mapped[str] = mapped_column(String(16))
    mode_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HistoryRow(Base):
    __tablename__ = "mode_usage_history"
    __table_args__ = (
        CheckConstraint(f"action_type IN ({_one_of(Action)})", name="action_type"),
        Index("ix_mode_usage_history_session_id_id", "session_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("sessions.session_id", ondelete="CASCADE")
    )
    mode_file: Mapped[str | None] = mapped_column(Text)
    mode_hash: Mapped[str | None] = mapped_column(String(128))
    action_type: Mapped[str] = mapped_column(String(16))
    timestamp: Mapped[datetime]
    success: Mapped[bool]
    error_message: Mapped[str | None] = mapped_column(Text)


class ArtifactRow(Base):
    __tablename__ = "compiled_artifacts"

    mode_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    format: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    project_root: str
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    terminated_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.status is SessionStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class BindingRecord:
    session_id: str
    mode_file: str
    mode_hash: str
    validation_status: ValidationStatus
    bound_at: datetime
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    id: int
    session_id: str
    action_type: Action
    mode_file: str | None
    mode_hash: str | None
    timestamp: datetime
    success: bool
    error_message: str | None


_SESSION_COLUMNS: Final = (
    SessionRow.session_id,
    SessionRow.project_root,
    SessionRow.status,
    SessionRow.created_at,
    SessionRow.updated_at,
    SessionRow.terminated_at,
)
_BINDING_COLUMNS: Final = (
    BindingRow.session_id,
    BindingRow.mode_file,
    BindingRow.mode_hash,
    BindingRow.validation_status,
    BindingRow.bound_at,
    BindingRow.created_at,
    BindingRow.updated_at,
)
_HISTORY_COLUMNS: Final = (
    HistoryRow.id,
    HistoryRow.session_id,
    HistoryRow.action_type,
    HistoryRow.mode_file,
    HistoryRow.mode_hash,
    HistoryRow.timestamp,
    HistoryRow.success,
    HistoryRow.error_message,
)


def _session(row: _AnyRow) -> SessionRecord:
    return SessionRecord(
        session_id=row.session_id,
        project_root=row.project_root,
        status=SessionStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        terminated_at=row.terminated_at,
    )


def _binding(row: _AnyRow) -> BindingRecord:
    return BindingRecord(
        session_id=row.session_id,
        mode_file=row.mode_file,
        mode_hash=row.mode_hash,
        validation_status=ValidationStatus(row.validation_status),
        bound_at=row.bound_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _history(row: _AnyRow) -> HistoryRecord:
    return HistoryRecord(
        id=row.id,
        session_id=row.session_id,
        action_type=Action(row.action_type),
        mode_file=row.mode_file,
        mode_hash=row.mode_hash,
        timestamp=row.timestamp,
        success=bool(row.success),
        error_message=row.error_message,
    )


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- statements

_SESSIONS: Final = cast(Table, SessionRow.__table__)
_BINDINGS: Final = cast(Table, BindingRow.__table__)
_HISTORY: Final = cast(Table, HistoryRow.__table__)
_ARTIFACTS: Final = cast(Table, ArtifactRow.__table__)
_BINDING_CHANGES: Final = ("mode_file", "mode_hash", "validation_status", "bound_at", "updated_at")


@dataclass(frozen=True, slots=True)
class _Statements:
    """The store's hot statements, built once per dialect. Executing a prebuilt statement with
    parameters reuses its memoized cache key and compiled form; building the statements on
    every call made a SQLite bind take 3.5 times as long."""

    status_share: Executable  # the session's status, FOR SHARE on PostgreSQL
    status_exclusive: Executable  # FOR NO KEY UPDATE on PostgreSQL
    insert_session: Executable  # ON CONFLICT DO NOTHING RETURNING
    select_session: Executable
    upsert_binding: Executable  # ON CONFLICT (session_id) DO UPDATE RETURNING
    select_binding: Executable
    insert_history: Executable
    insert_artifact: Executable  # ON CONFLICT DO NOTHING RETURNING
    select_artifact: Executable


def _dialect_insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return pg_dialect.insert(table)
    return sqlite_dialect.insert(table)


@functools.cache
def _statements(dialect: str) -> _Statements:
    by_session = SessionRow.session_id == bindparam("session_id")
    status = select(SessionRow.status).where(by_session)
    upsert = _dialect_insert(dialect, _BINDINGS)
    return _Statements(
        status_share=status.with_for_update(read=True),
        status_exclusive=status.with_for_update(key_share=True),
        insert_session=_dialect_insert(dialect, _SESSIONS)
        .on_conflict_do_nothing()
        .returning(*_SESSION_COLUMNS),
        select_session=select(*_SESSION_COLUMNS).where(by_session),
        upsert_binding=upsert.on_conflict_do_update(
            index_elements=[_BINDINGS.c.session_id],
            set_={name: upsert.excluded[name] for name in _BINDING_CHANGES},
        ).returning(*_BINDING_COLUMNS),
        select_binding=select(*_BINDING_COLUMNS).where(
            BindingRow.session_id == bindparam("session_id")
        ),
        insert_history=insert(_HISTORY).returning(*_HISTORY_COLUMNS),
        insert_artifact=_dialect_insert(dialect, _ARTIFACTS)
        .on_conflict_do_nothing()
        .returning(ArtifactRow.mode_hash),
        select_artifact=select(ArtifactRow.format, ArtifactRow.data).where(
            ArtifactRow.mode_hash == bindparam("mode_hash")
        ),
    )


# --------------------------------------------------------------------------- engines


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
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    # Switching a fresh file to WAL needs a moment of exclusive access, and the busy handler
    # does not cover it; several processes opening a new database at once must wait in turn.
    deadline = time.monotonic() + busy_timeout
    delay = _FIRST_BACKOFF
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _sqlite_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, _MAX_BACKOFF)


def make_engine(url: str | URL, *, busy_timeout: float = _DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine configured the way the store needs it.

    SQLite: the parent directory of the file is created; every connection gets
    ``busy_timeout``, ``foreign_keys=ON``, and (for files) ``journal_mode=WAL`` with
    ``synchronous=NORMAL`` (durable across process crashes, which is what bindings need);
    transactions are begun by SQLAlchemy, ``BEGIN IMMEDIATE`` for writes. ``sqlite://`` is one
    shared in-memory database. PostgreSQL: ``postgresql://`` means psycopg 3; connections are
    pinged before use. Raises :class:`~modec.diagnostics.ModecError` for other backends.
    """
    parsed = _normalized_url(url)
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
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _is_transient(exc: DBAPIError) -> bool:
    """True for failures that roll the transaction back and succeed when simply retried."""
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


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _script_location().replace("%", "%%"))
    return cfg


@functools.cache
def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic_config())


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _script_directory().walk_revisions())


def head_revision() -> str:
    """The Alembic revision that the shipped migrations end at."""
    head = _script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise ModecError("modec's schema migrations are missing from the installation")
    return head


# --------------------------------------------------------------------------- the store


class SessionBindingStore:
    """Sessions, mode bindings, usage history and compiled artifacts in one SQL database.

    ``url`` is any SQLAlchemy URL of a SQLite or PostgreSQL database (``sqlite:///path``,
    ``sqlite://`` for memory, ``postgresql+psycopg://user@host/db``). Opening a store migrates
    the schema to the shipped head revision unless ``migrate=False``; that is idempotent and
    safe when many processes open the same database at once.

    Every method is one transaction, retried up to ``max_attempts`` times on transient
    contention (SQLite lock timeouts, PostgreSQL serialization failures and deadlocks) with
    jittered exponential backoff; other database errors propagate as SQLAlchemy exceptions.
    Methods return frozen records, never live ORM objects. A store holds a connection pool:
    call :meth:`dispose` (or use it as a context manager) when done, and create a new store in
    a child process rather than inheriting one across ``fork``.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        migrate: bool = True,
        busy_timeout: float = _DEFAULT_BUSY_TIMEOUT,
        max_attempts: int = _DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._engine = make_engine(url, busy_timeout=busy_timeout)
        self._writer = self._engine.execution_options(**{_WRITE_OPTION: True})
        self._dialect = self._engine.dialect.name
        self._sql = _statements(self._dialect)
        self._max_attempts = max_attempts
        if migrate:
            self.upgrade()

    # ------------------------------------------------------------------ plumbing

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    def __repr__(self) -> str:
        return f"SessionBindingStore({self.url!r})"

    def __enter__(self) -> SessionBindingStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection. The store stays usable (it reconnects on demand)."""
        self._engine.dispose()

    def _transaction(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        engine = self._writer if write else self._engine
        delay = _FIRST_BACKOFF
        attempt = 0
        while True:
            attempt += 1
            try:
                with engine.begin() as conn:
                    return work(conn)
            except DBAPIError as exc:
                if attempt >= self._max_attempts or not _is_transient(exc):
                    raise
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, _MAX_BACKOFF)

    def upgrade(self) -> None:
        """Migrate the schema to :func:`head_revision`; a no-op when it is there already.

        Concurrent callers migrate once: on PostgreSQL the upgrade runs under a transaction
        advisory lock keyed by the current schema, on SQLite inside one ``BEGIN IMMEDIATE``
        transaction; latecomers find the head revision and do nothing. Raises
        :class:`~modec.diagnostics.ModecError` if the database was migrated by a newer modec.
        """
        head = head_revision()
        if self.schema_revision() == head:
            return

        def work(conn: Connection) -> None:
            if self._dialect == "postgresql":
                conn.execute(
                    text(
                        "SELECT pg_advisory_xact_lock("
                        "hashtextextended('modec.migrations:' || coalesce(current_schema(), ''),"
                        " 0))"
                    )
                )
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return
            if current is not None and current not in _known_revisions():
                raise ModecError(
                    f"the database schema is at revision {current!r}, which this modec "
                    f"(head {head!r}) does not know",
                    suggestion="upgrade modec to the version that last migrated this database",
                )
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

        self._transaction(work, write=True)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None`` before the first migration)."""

        def work(conn: Connection) -> str | None:
            return MigrationContext.configure(conn).get_current_revision()

        return self._transaction(work, write=False)

    def _lock_session(self, conn: Connection, session_id: str, *, exclusive: bool) -> str | None:
        """The session's status, locked until the transaction ends (PostgreSQL; SQLite
        write transactions already hold the database lock)."""
        query = self._sql.status_exclusive if exclusive else self._sql.status_share
        status: str | None = conn.execute(query, {"session_id": session_id}).scalar_one_or_none()
        return status

    def _require_active(
        self, conn: Connection, session_id: str, *, exclusive: bool = False
    ) -> None:
        status = self._lock_session(conn, session_id, exclusive=exclusive)
        if status is None:
            raise SessionNotActiveError(f"session {session_id!r} does not exist")
        if status != SessionStatus.ACTIVE:
            raise SessionNotActiveError(f"session {session_id!r} is {status}, not active")

    def _append_history(
        self,
        conn: Connection,
        session_id: str,
        action: Action,
        mode_file: str | None,
        mode_hash: str | None,
        *,
        success: bool,
        error_message: str | None,
        at: datetime,
    ) -> HistoryRecord:
        row = conn.execute(
            self._sql.insert_history,
            {
                "session_id": session_id,
                "action_type": action.value,
                "mode_file": mode_file,
                "mode_hash": mode_hash,
                "timestamp": at,
                "success": success,
                "error_message": error_message,
            },
        ).one()
        return _history(row)

    # ------------------------------------------------------------------ sessions

    def create_session(
        self, session_id: str | None, project_root: str | os.PathLike[str]
    ) -> SessionRecord:
        """Create an active session and return it.

        ``session_id`` defaults to a fresh UUID (32 hex digits); ``project_root`` is stored as
        given (converted with ``os.fspath``). Raises ``ValueError`` if the id is empty, longer
        than 128 characters, or already taken (also when two processes race for it).
        """
        sid = uuid.uuid4().hex if session_id is None else session_id
        if not sid or len(sid) > 128:
            raise ValueError(f"session id must be 1 to 128 characters, got {sid!r}")
        now = _now()
        values = {
            "session_id": sid,
            "project_root": os.fspath(project_root),
            "status": SessionStatus.ACTIVE.value,
            "created_at": now,
            "updated_at": now,
            "terminated_at": None,
        }

        def work(conn: Connection) -> _AnyRow | None:
            return conn.execute(self._sql.insert_session, values).one_or_none()

        row = self._transaction(work, write=True)
        if row is None:
            raise ValueError(f"session {sid!r} already exists")
        return _session(row)

    def get_session(self, session_id: str) -> SessionRecord | None:
        """The session, active or terminated, or ``None`` if there is none with this id."""

        def work(conn: Connection) -> _AnyRow | None:
            return conn.execute(self._sql.select_session, {"session_id": session_id}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else _session(row)

    def list_sessions(self, active_only: bool = True) -> list[SessionRecord]:
        """Sessions in creation order (ties by id); only active ones unless told otherwise."""

        def work(conn: Connection) -> Sequence[_AnyRow]:
            query = select(*_SESSION_COLUMNS).order_by(SessionRow.created_at, SessionRow.session_id)
            if active_only:
                query = query.where(SessionRow.status == SessionStatus.ACTIVE.value)
            return conn.execute(query).all()

        return [_session(r) for r in self._transaction(work, write=False)]

    def terminate_session(
        self, session_id: str, *, error_message: str | None = None
    ) -> SessionRecord:
        """Mark an active session terminated and record a ``terminate`` history row.

        The history row names the session's current binding (if any), which is kept so that
        the session's last mode stays on record; ``error_message``, if given, is stored on the
        row (the termination still counts as successful). Raises
        :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist or is
        already terminated; nothing is written then.
        """

        def work(conn: Connection) -> _AnyRow:
            self._require_active(conn, session_id, exclusive=True)
            now = _now()
            row = conn.execute(
                update(SessionRow)
                .where(SessionRow.session_id == session_id)
                .values(status=SessionStatus.TERMINATED.value, updated_at=now, terminated_at=now)
                .returning(*_SESSION_COLUMNS)
            ).one()
            bound = conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()
            self._append_history(
                conn,
                session_id,
                Action.TERMINATE,
                bound.mode_file if bound else None,
                bound.mode_hash if bound else None,
                success=True,
                error_message=error_message,
                at=now,
            )
            return row

        return _session(self._transaction(work, write=True))

    # ------------------------------------------------------------------ bindings

    def bind(
        self,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action | str = Action.BIND,
        validation_status: ValidationStatus | str = ValidationStatus.VALID,
    ) -> BindingRecord:
        """Bind an active session to a compiled mode and return the new binding.

        In one transaction: the session's binding row is inserted or replaced (``bound_at``
        and ``updated_at`` are now; ``created_at`` of an existing row is kept) and exactly one
        history row (``action``, success) is appended after it, so history ids follow binding
        order. ``action`` is one of ``bind``, ``switch``, ``resume``, ``fallback``. The store
        does not check that ``mode_hash`` names a stored artifact: artifacts may live in
        other tiers.

        Raises :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist
        or is not active, and ``ValueError`` for an unknown action or validation status or
        an empty mode file or hash; nothing is written then.
        """
        act = Action(action)
        if act not in BIND_ACTIONS:
            raise ValueError(
                f"bind action must be one of {sorted(a.value for a in BIND_ACTIONS)}, got {act}"
            )
        status = ValidationStatus(validation_status)
        if not mode_file or not mode_hash:
            raise ValueError("bind needs a mode file and a mode hash")

        def work(conn: Connection) -> BindingRecord:
            self._require_active(conn, session_id)
            now = _now()
            values = {
                "session_id": session_id,
                "mode_file": mode_file,
                "mode_hash": mode_hash,
                "validation_status": status.value,
                "bound_at": now,
                "created_at": now,
                "updated_at": now,
            }
            binding = _binding(conn.execute(self._sql.upsert_binding, values).one())
            self._append_history(
                conn,
                session_id,
                act,
                mode_file,
                mode_hash,
                success=True,
                error_message=None,
                at=now,
            )
            return binding

        return self._transaction(work, write=True)

    def get_binding(self, session_id: str) -> BindingRecord | None:
        """The session's current binding, or ``None`` if it was never bound (or unbound)."""

        def work(conn: Connection) -> _AnyRow | None:
            return conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else _binding(row)

    def list_bindings(self, active_only: bool = True) -> list[BindingRecord]:
        """Every binding (of active sessions only, unless told otherwise), by session id."""

        def work(conn: Connection) -> Sequence[_AnyRow]:
            query = select(*_BINDING_COLUMNS).order_by(BindingRow.session_id)
            if active_only:
                query = query.join(
                    SessionRow, SessionRow.session_id == BindingRow.session_id
                ).where(SessionRow.status == SessionStatus.ACTIVE.value)
            return conn.execute(query).all()

        return [_binding(r) for r in self._transaction(work, write=False)]

    def mark_degraded(
        self, session_id: str, error: str, *, action: Action | str = Action.VALIDATE
    ) -> BindingRecord:
        """Mark the binding of an active session ``degraded`` and record why.

        The binding keeps its mode file and mode hash (the session goes on routing on that
        last good artifact); one failed history row (``action``, default ``validate``) with
        ``error`` as its message is appended in the same transaction. Raises
        :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist or is
        not active, and ``LookupError`` if it has no binding; nothing is written then.
        """
        act = Action(action)

        def work(conn: Connection) -> BindingRecord:
            self._require_active(conn, session_id)
            now = _now()
            row = conn.execute(
                update(BindingRow)
                .where(BindingRow.session_id == session_id)
                .values(validation_status=ValidationStatus.DEGRADED.value, updated_at=now)
                .returning(*_BINDING_COLUMNS)
            ).one_or_none()
            if row is None:
                raise LookupError(f"session {session_id!r} has no binding to mark degraded")
            binding = _binding(row)
            self._append_history(
                conn,
                session_id,
                act,
                binding.mode_file,
                binding.mode_hash,
                success=False,
                error_message=error,
                at=now,
            )
            return binding

        return self._transaction(work, write=True)

    def unbind(self, session_id: str) -> BindingRecord | None:
        """Remove an active session's binding, recording ``unbind``; return what was removed.

        Returns ``None`` (and records nothing) if the session had no binding. Raises
        :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist or is
        not active.
        """

        def work(conn: Connection) -> BindingRecord | None:
            self._require_active(conn, session_id)
            row = conn.execute(
                delete(BindingRow)
                .where(BindingRow.session_id == session_id)
                .returning(*_BINDING_COLUMNS)
            ).one_or_none()
            if row is None:
                return None
            binding = _binding(row)
            self._append_history(
                conn,
                session_id,
                Action.UNBIND,
                binding.mode_file,
                binding.mode_hash,
                success=True,
                error_message=None,
                at=_now(),
            )
            return binding

        return self._transaction(work, write=True)

    # ------------------------------------------------------------------ history

    def record(
        self,
        session_id: str,
        action: Action | str,
        mode_file: str | None,
        mode_hash: str | None,
        success: bool,
        error_message: str | None = None,
    ) -> HistoryRecord:
        """Append one history row without touching the binding, and return it.

        For events that change no binding: a validation, a failed bind or resume, an attempt
        on a session being wound down. The session must exist but need not be active. Raises
        :class:`~modec.diagnostics.SessionNotActiveError` if it does not exist and
        ``ValueError`` for an unknown action.
        """
        act = Action(action)

        def work(conn: Connection) -> HistoryRecord:
            if self._lock_session(conn, session_id, exclusive=False) is None:
                raise SessionNotActiveError(f"session {session_id!r} does not exist")
            return self._append_history(
                conn,
                session_id,
                act,
                mode_file,
                mode_hash,
                success=success,
                error_message=error_message,
                at=_now(),
            )

        return self._transaction(work, write=True)

    def history(self, session_id: str, limit: int | None = None) -> list[HistoryRecord]:
        """The session's history rows, oldest first; with ``limit``, only the newest ones."""

        def work(conn: Connection) -> Sequence[_AnyRow]:
            query = select(*_HISTORY_COLUMNS).where(HistoryRow.session_id == session_id)
            if limit is None:
                return conn.execute(query.order_by(HistoryRow.id)).all()
            newest = conn.execute(query.order_by(HistoryRow.id.desc()).limit(limit)).all()
            return newest[::-1]

        return [_history(r) for r in self._transaction(work, write=False)]

    # ------------------------------------------------------------------ artifacts

    def put_artifact(self, mode_hash: str, fmt: int, data: bytes) -> bool:
        """Store an artifact's bytes under its mode hash unless one is stored already.

        Returns ``True`` if this call inserted the row, ``False`` if the hash was present (the
        stored bytes are left alone: a mode hash names one artifact). Concurrent callers are
        safe: exactly one of them inserts.
        """
        values = {"mode_hash": mode_hash, "format": fmt, "data": bytes(data), "created_at": _now()}

        def work(conn: Connection) -> bool:
            return conn.execute(self._sql.insert_artifact, values).first() is not None

        return self._transaction(work, write=True)

    def get_artifact(self, mode_hash: str) -> tuple[int, bytes] | None:
        """``(format, bytes)`` of the artifact stored under ``mode_hash``, or ``None``.

        The bytes are returned as stored; checking them is the caller's job.
        """

        def work(conn: Connection) -> _AnyRow | None:
            return conn.execute(self._sql.select_artifact, {"mode_hash": mode_hash}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else (int(row.format), bytes(row.data))

    def delete_artifact(self, mode_hash: str) -> bool:
        """Delete the artifact stored under ``mode_hash``; ``True`` if there was one."""

        def work(conn: Connection) -> bool:
            stmt = (
                delete(ArtifactRow)
                .where(ArtifactRow.mode_hash == mode_hash)
                .returning(ArtifactRow.mode_hash)
            )
            return conn.execute(stmt).first() is not None

        return self._transaction(work, write=True)
