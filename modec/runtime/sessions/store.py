"""The session store: :class:`SessionBindingStore`, the one object the runtime uses to read
and write sessions, bindings, history and the shared artifact table."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Generic, TypeVar

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Engine,
    delete,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateSchema

from modec.diagnostics import ModecError, SessionNotActiveError
from modec.runtime.sessions.engine import (
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    TABLES_ATTRIBUTE,
    WRITE_OPTION,
    RetryHook,
    alembic_config,
    cannot_write_files,
    check_host_engine,
    head_revision,
    host_writer,
    is_transient,
    known_revisions,
    make_engine,
    read_only_engine,
    retrying,
)
from modec.runtime.sessions.schema import (
    BIND_ACTIONS,
    BINDING_COLUMNS,
    HISTORY_COLUMNS,
    SESSION_COLUMNS,
    Action,
    AnyRow,
    BindingRecord,
    DatabaseNamingError,
    HistoryRecord,
    SessionRecord,
    SessionStatus,
    Tables,
    ValidationStatus,
    binding_record,
    columns,
    history_record,
    session_record,
    tables,
)
from modec.runtime.sessions.schema import (
    now as _now,
)
from modec.runtime.sessions.statements import (
    NamedDriverStatement,
    driver_bind,
    named_driver_statement,
    statements,
)

__all__ = ["Adoption", "BindingProbe", "Rebinding", "SessionBindingStore"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_log = logging.getLogger(__name__)


#: The longest session id a session may have (a host's ids included).
MAX_SESSION_ID: Final = 128


def check_session_id(session_id: object) -> str:
    """``session_id`` if it can name a session: a string of 1 to :data:`MAX_SESSION_ID`
    characters, valid Unicode (no lone surrogates), without control characters (NUL,
    which PostgreSQL's text cannot hold, line breaks, escapes); else ValueError (TypeError for
    a non-string) saying which.

    >>> check_session_id("host-42")
    'host-42'
    """
    if not isinstance(session_id, str):
        raise TypeError(f"a session id is a string, not {type(session_id).__name__}")
    shown = repr(session_id[:40]) + ("…" if len(session_id) > 40 else "")
    if not 1 <= len(session_id) <= MAX_SESSION_ID:
        raise ValueError(
            f"session id must be 1 to {MAX_SESSION_ID} characters, got {len(session_id):,}: {shown}"
        )
    bad = next((ch for ch in session_id if unicodedata.category(ch) in ("Cc", "Cs")), None)
    if bad is not None:
        raise ValueError(
            f"session id {shown} holds U+{ord(bad):04X}: control characters and lone "
            "surrogates cannot name a session"
        )
    return session_id


@dataclass(frozen=True, slots=True)
class Rebinding(Generic[_R]):
    """What :meth:`SessionBindingStore.rebind` did: the binding it replaced (``previous``,
    read in the same transaction), the new ``binding``, its history row, and what the
    ``before`` callback returned for ``previous`` (``prepared``)."""

    previous: BindingRecord | None
    binding: BindingRecord
    history: HistoryRecord
    prepared: _R | None


@dataclass(frozen=True, slots=True)
class Adoption:
    """What :meth:`SessionBindingStore.adopt` did: the session's ``binding`` now, whether
    the session row was ``created`` and whether this call wrote the binding (``bound``)."""

    binding: BindingRecord
    created: bool
    bound: bool


@dataclass(frozen=True, slots=True)
class BindingProbe:
    """A session's status and its binding's version (0 when it has none): what a cache
    compares with what it holds (:meth:`SessionBindingStore.probe`)."""

    status: SessionStatus
    version: int


# --------------------------------------------------------------------------- the store


class SessionBindingStore:
    """Sessions, mode bindings, usage history and compiled artifacts in one SQL database.

    ``url`` is any SQLAlchemy URL of a SQLite or PostgreSQL database (``sqlite:///path``,
    ``sqlite://`` for memory, ``postgresql+psycopg://user@host/db``); or pass a host's own
    ``engine`` instead (see below). Opening a store migrates the schema to the shipped head
    revision unless ``migrate=False``; that is idempotent and safe when many processes open
    the same database at once.

    ``table_prefix`` is put before the name of every table, index, constraint and sequence
    modec creates, and before Alembic's version table (``<prefix>alembic_version``);
    ``schema`` (PostgreSQL only; created if missing) holds all of them. The defaults are
    modec's plain names in the connection's search path, so existing databases keep
    working. Bad names raise :class:`~modec.runtime.sessions.schema.DatabaseNamingError`.

    A host's ``engine`` is used as it is: the store adds no connect event, sets no pragma,
    changes no pool option, and :meth:`dispose` leaves it open. On SQLite it therefore runs
    with the host's settings (journal mode, ``synchronous``, busy timeout, foreign keys);
    only modec's own write transactions begin with ``BEGIN IMMEDIATE`` (through a listener
    local to the store's copy of the engine) when the driver has not begun one. The engine
    must run transactions (not ``AUTOCOMMIT``).

    Every method is one transaction, retried up to ``max_attempts`` times on transient
    contention (SQLite lock timeouts, PostgreSQL serialization failures and deadlocks) with
    jittered exponential backoff (:func:`~modec.runtime.sessions.engine.retrying`;
    ``on_retry`` hears of each retry); other database errors propagate as SQLAlchemy
    exceptions.
    Methods return frozen records, never live ORM objects. A store holds a connection pool:
    call :meth:`dispose` (or use it as a context manager) when done, and create a new store in
    a child process rather than inheriting one across ``fork``.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        engine: Engine | None = None,
        table_prefix: str = "",
        schema: str | None = None,
        migrate: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        on_retry: RetryHook | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if (url is None) == (engine is None):
            raise ValueError("pass a database URL or an engine (exactly one of them)")
        self._t = tables(table_prefix, schema)
        self._owns_engine = engine is None
        self._engine: Engine
        self._writer: Engine
        if engine is None:
            assert url is not None
            self._engine = make_engine(url, busy_timeout=busy_timeout)
            self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        else:
            self._engine = check_host_engine(engine)
            self._writer = host_writer(engine)
        self._dialect = self._engine.dialect.name
        if schema is not None and self._dialect != "postgresql":
            if self._owns_engine:
                self._engine.dispose()
            raise DatabaseNamingError(
                f"schema {schema!r} given for a {self._dialect} database: only PostgreSQL "
                "has schemas",
                suggestion="use table_prefix to keep modec's tables apart in a SQLite file",
            )
        self._sql = statements(self._dialect, self._t)
        # PostgreSQL's one-statement transactions (bind): on the store's own engine, a pool
        # of autocommit connections; on a host's, its connections switched for the call.
        self._single = self._writer
        self._own_single: Engine | None = None
        self._bind_one_driver: NamedDriverStatement | None = None
        if self._dialect == "postgresql" and self._owns_engine:
            assert url is not None and self._sql.bind_one is not None
            self._own_single = make_engine(url, autocommit=True)
            self._single = self._own_single.execution_options(**{WRITE_OPTION: True})
            self._bind_one_driver = named_driver_statement(
                self._sql.bind_one, self._own_single.dialect
            )
        elif self._dialect == "postgresql":
            self._single = self._writer.execution_options(isolation_level="AUTOCOMMIT")
        self._driver = (
            driver_bind(self._engine.dialect, self._t) if self._dialect == "sqlite" else None
        )
        self._session_columns = columns(self._t.sessions, SESSION_COLUMNS)
        self._binding_columns = columns(self._t.bindings, BINDING_COLUMNS)
        self._history_columns = columns(self._t.history, HISTORY_COLUMNS)
        self._max_attempts = max_attempts
        self._on_retry = on_retry
        self._retries = retrying(max_attempts - 1, is_transient, self._retried_again)
        self.read_only = False
        if migrate:
            try:
                self.upgrade()
            except DBAPIError as exc:
                if url is None or self._dialect != "sqlite" or not cannot_write_files(exc):
                    raise
                self._open_read_only(url, busy_timeout, exc)

    def _open_read_only(self, url: str | URL, busy_timeout: float, exc: DBAPIError) -> None:
        """Fall back to reading (a full disk must not stop read-only commands); writes
        then raise a :class:`~modec.diagnostics.ModecError` saying why."""
        self._engine.dispose()
        engine = read_only_engine(url, busy_timeout=busy_timeout)
        _log.warning(
            "the session database cannot create or grow its files (%s): open read-only", exc.orig
        )
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self.read_only = True
        self._write_failure = str(exc.orig)
        if self.schema_revision() != head_revision():
            raise ModecError(
                "the session database needs a schema upgrade, and no file can be written "
                f"({self._write_failure})",
                suggestion="free disk space (or lift the file size limit) and retry",
            ) from exc

    # ------------------------------------------------------------------ plumbing

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    @property
    def tables(self) -> Tables:
        """modec's tables in this database (their prefix, schema and names)."""
        return self._t

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine: the host's when one was passed, else the store's own."""
        return self._engine

    @property
    def owns_engine(self) -> bool:
        """True when the store created its engine (and :meth:`dispose` closes its pool);
        False for a host's engine, which the store never disposes or reconfigures."""
        return self._owns_engine

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
        """Close every pooled connection of the store's own engine. The store stays usable
        (it reconnects on demand). A host's engine is left alone: its pool is the host's."""
        if self._owns_engine:
            self._engine.dispose()
        if self._own_single is not None:
            self._own_single.dispose()

    def _transaction(
        self, work: Callable[[Connection], _T], *, write: bool, single: bool = False
    ) -> _T:
        engine = self._single if single else self._writer if write else self._engine

        def attempt() -> _T:
            with engine.begin() as conn:
                return work(conn)

        return self._attempts(attempt, write=write)

    def _single_driver_call(
        self, statement: NamedDriverStatement, values: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        """``statement``'s first row, run as a transaction of its own on a pooled autocommit
        connection of the store's PostgreSQL engine, on the driver's cursor. A failure is
        raised as SQLAlchemy would raise it (a dropped connection invalidated and said so),
        so the retry policy reads it the same way. Retried as :meth:`_transaction`."""
        engine = self._own_single
        assert engine is not None
        dialect = engine.dialect
        dbapi_error = dialect.loaded_dbapi.Error

        def attempt() -> tuple[Any, ...] | None:
            pooled = engine.raw_connection()
            try:
                driver: Any = pooled.driver_connection
                try:
                    cursor = driver.cursor()
                    try:
                        return statement.row(statement.execute(cursor, values))
                    finally:
                        cursor.close()
                except dbapi_error as exc:
                    gone = dialect.is_disconnect(exc, driver, None)
                    if gone:
                        pooled.invalidate(exc)
                    raise DBAPIError.instance(
                        statement.sql,
                        values,
                        exc,
                        dbapi_error,
                        connection_invalidated=gone,
                        dialect=dialect,
                    ) from exc
            finally:
                pooled.close()

        return self._attempts(attempt, write=True)

    def _driver_transaction(self, work: Callable[[Any], _T]) -> _T:
        """A SQLite write transaction on the pooled driver connection itself:
        ``BEGIN IMMEDIATE`` (unless a host's driver has begun one), ``work(cursor)``,
        ``COMMIT``; rolled back on any failure. For the bind, whose statements are
        :class:`~modec.runtime.sessions.statements.DriverStatement` objects: SQLAlchemy's
        connection and transaction objects were a third of a bind. Retried as
        :meth:`_transaction`."""

        def attempt() -> _T:
            pooled = self._engine.raw_connection()
            try:
                driver: Any = pooled.driver_connection
                cursor = driver.cursor()
                try:
                    if not driver.in_transaction:
                        _driver_call(lambda: cursor.execute("BEGIN IMMEDIATE"), "BEGIN IMMEDIATE")
                    result = work(cursor)
                    _driver_call(driver.commit, "COMMIT")
                    return result
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        driver.rollback()
                    raise
                finally:
                    cursor.close()
            finally:
                pooled.close()

        return self._attempts(attempt, write=True)

    def _attempts(self, attempt: Callable[[], _T], *, write: bool) -> _T:
        if write and self.read_only:
            raise ModecError(
                f"the session database is open read-only: no file can be written "
                f"({self._write_failure})",
                suggestion="free disk space (or lift the file size limit) and retry",
            )
        # The first attempt runs bare: the retry policy costs more than a bind's statements,
        # and almost every transaction succeeds at once.
        try:
            return attempt()
        except Exception as exc:
            if self._max_attempts == 1 or not is_transient(exc):
                raise
            self._retried(1, exc)
        return self._retries.copy()(attempt)

    def _retried(self, attempt: int, exc: BaseException) -> None:
        if self._on_retry is not None:
            self._on_retry(attempt, exc)

    def _retried_again(self, attempt: int, exc: BaseException) -> None:
        self._retried(attempt + 1, exc)  # the policy counts from the second attempt

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
        names = self._t

        def work(conn: Connection) -> None:
            if self._dialect == "postgresql":
                # One key per schema and prefix (modec stores with other names in the same
                # database migrate independently); the default names keep the key modec
                # has always taken, so older modecs and this one migrate in turn.
                conn.execute(
                    text(
                        "SELECT pg_advisory_xact_lock(hashtextextended('modec.migrations:' "
                        "|| coalesce(:schema, current_schema(), '') || :suffix, 0))"
                    ),
                    {"schema": names.schema, "suffix": f":{names.prefix}" if names.prefix else ""},
                )
                if names.schema is not None and not inspect(conn).has_schema(names.schema):
                    conn.execute(CreateSchema(names.schema, if_not_exists=True))
            current = self._migration_context(conn).get_current_revision()
            if current == head:
                return
            if current is not None and current not in known_revisions():
                raise ModecError(
                    f"the database schema is at revision {current!r}, which this modec "
                    f"(head {head!r}) does not know",
                    suggestion="upgrade modec to the version that last migrated this database",
                )
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes[TABLES_ATTRIBUTE] = names
            command.upgrade(cfg, "head")

        self._transaction(work, write=True)

    def _migration_context(self, conn: Connection) -> MigrationContext:
        return MigrationContext.configure(
            conn,
            opts={
                "version_table": self._t.version_table,
                "version_table_schema": self._t.schema,
            },
        )

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None`` before the first migration),
        read from the version table of this store's prefix and schema."""

        def work(conn: Connection) -> str | None:
            return self._migration_context(conn).get_current_revision()

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
        _require_status_active(
            session_id, self._lock_session(conn, session_id, exclusive=exclusive)
        )

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
        values = {
            "session_id": session_id,
            "action_type": action.value,
            "mode_file": mode_file,
            "mode_hash": mode_hash,
            "timestamp": at,
            "success": success,
            "error_message": error_message,
        }
        result = conn.execute(self._sql.insert_history, values)
        if self._dialect != "sqlite":
            return history_record(result.one())
        # SQLite: the row is what was written, its id the cursor's (no RETURNING to read)
        return HistoryRecord(
            int(result.lastrowid),
            session_id,
            action,
            mode_file,
            mode_hash,
            at,
            success,
            error_message,
        )

    # ------------------------------------------------------------------ sessions

    def create_session(
        self, session_id: str | None, project_root: str | os.PathLike[str]
    ) -> SessionRecord:
        """Create an active session and return it.

        ``session_id`` defaults to a fresh UUID (32 hex digits); ``project_root`` is stored as
        given (converted with ``os.fspath``). Raises ``ValueError`` if the id is empty, longer
        than 128 characters, or already taken (also when two processes race for it).
        """
        values = self._new_session(session_id, project_root)

        def work(conn: Connection) -> SessionRecord:
            return self._insert_session(conn, values)

        return self._transaction(work, write=True)

    def start_session(
        self,
        session_id: str | None,
        project_root: str | os.PathLike[str],
        mode_file: str,
        mode_hash: str,
    ) -> tuple[SessionRecord, BindingRecord]:
        """Create an active session bound to ``mode_hash`` (a ``bind`` history row), all in
        one transaction: a crash leaves no session or a bound one, never an unbound one.
        Raises as :meth:`create_session` and :meth:`bind`; nothing is written then."""
        values = self._new_session(session_id, project_root)
        _check_bind(Action.BIND, mode_file, mode_hash)

        def work(conn: Connection) -> tuple[SessionRecord, BindingRecord]:
            session = self._insert_session(conn, values)
            binding, _, _ = self._write_binding(
                conn,
                session.session_id,
                mode_file,
                mode_hash,
                Action.BIND,
                ValidationStatus.VALID,
                values["created_at"],
            )
            return session, binding

        return self._transaction(work, write=True)

    @staticmethod
    def _new_session(
        session_id: str | None, project_root: str | os.PathLike[str]
    ) -> dict[str, Any]:
        sid = uuid.uuid4().hex if session_id is None else check_session_id(session_id)
        at = _now()
        return {
            "session_id": sid,
            "project_root": os.fspath(project_root),
            "status": SessionStatus.ACTIVE.value,
            "created_at": at,
            "updated_at": at,
            "terminated_at": None,
        }

    def _insert_session(self, conn: Connection, values: dict[str, Any]) -> SessionRecord:
        row = conn.execute(self._sql.insert_session, values).one_or_none()
        if row is None:
            raise ValueError(f"session {values['session_id']!r} already exists")
        return session_record(row)

    def get_session(self, session_id: str) -> SessionRecord | None:
        """The session, active or terminated, or ``None`` if there is none with this id."""

        def work(conn: Connection) -> AnyRow | None:
            return conn.execute(self._sql.select_session, {"session_id": session_id}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else session_record(row)

    def list_sessions(self, active_only: bool = True) -> list[SessionRecord]:
        """Sessions in creation order (the database's sequence); only active ones unless
        told otherwise."""

        def work(conn: Connection) -> Sequence[AnyRow]:
            query = select(*self._session_columns).order_by(self._t.sessions.c.seq)
            if active_only:
                query = query.where(self._t.sessions.c.status == SessionStatus.ACTIVE.value)
            return conn.execute(query).all()

        return [session_record(r) for r in self._transaction(work, write=False)]

    def latest_session(self, project_root: str | os.PathLike[str]) -> SessionRecord | None:
        """The most recently created active session of ``project_root`` (by the database's
        creation sequence, never a process's clock), or ``None``. One indexed read."""
        params = {"project_root": os.fspath(project_root)}

        def work(conn: Connection) -> AnyRow | None:
            return conn.execute(self._sql.latest_session, params).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else session_record(row)

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

        def work(conn: Connection) -> SessionRecord:
            self._require_active(conn, session_id, exclusive=True)
            return self._terminate(conn, session_id, error_message, _now())

        return self._transaction(work, write=True)

    def _terminate(
        self, conn: Connection, session_id: str, error_message: str | None, at: datetime
    ) -> SessionRecord:
        row = conn.execute(
            update(self._t.sessions)
            .where(self._t.sessions.c.session_id == session_id)
            .values(status=SessionStatus.TERMINATED.value, updated_at=at, terminated_at=at)
            .returning(*self._session_columns)
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
            at=at,
        )
        return session_record(row)

    def expire_sessions(self, idle_before: datetime, *, limit: int = 1000) -> list[str]:
        """Terminate up to ``limit`` active sessions untouched (no bind, switch, resume)
        since ``idle_before``, oldest first, each with a ``terminate`` row saying it expired;
        return their ids. Each is its own short transaction, re-checked under its lock, so
        a session bound meanwhile stays."""

        def idle(conn: Connection) -> list[str]:
            query = (
                select(self._t.sessions.c.session_id)
                .where(
                    self._t.sessions.c.status == SessionStatus.ACTIVE.value,
                    self._t.sessions.c.updated_at < idle_before,
                )
                .order_by(self._t.sessions.c.updated_at)
                .limit(limit)
            )
            return list(conn.execute(query).scalars())

        expired = []
        for sid in self._transaction(idle, write=False):

            def work(conn: Connection, sid: str = sid) -> bool:
                row = conn.execute(
                    select(self._t.sessions.c.status, self._t.sessions.c.updated_at)
                    .where(self._t.sessions.c.session_id == sid)
                    .with_for_update(key_share=True)
                ).one_or_none()
                if row is None or row.status != SessionStatus.ACTIVE.value:
                    return False
                if row.updated_at >= idle_before:
                    return False
                self._terminate(conn, sid, f"expired: idle since {row.updated_at:%Y-%m-%d}", _now())
                return True

            if self._transaction(work, write=True):
                expired.append(sid)
        return expired

    def purge_sessions(self, terminated_before: datetime) -> int:
        """Delete terminated sessions that ended before ``terminated_before``, with their
        bindings and history (archival is the caller's: back up first); return how many."""

        def work(conn: Connection) -> int:
            sessions = self._t.sessions
            ended = select(sessions.c.session_id).where(
                sessions.c.status == SessionStatus.TERMINATED.value,
                sessions.c.terminated_at < terminated_before,
            )
            # Children first, explicitly: a host's SQLite engine may not enforce foreign
            # keys, and ON DELETE CASCADE then does nothing.
            for child in (self._t.history, self._t.bindings):
                conn.execute(delete(child).where(child.c.session_id.in_(ended)))
            gone = conn.execute(
                delete(sessions)
                .where(sessions.c.session_id.in_(ended))
                .returning(sessions.c.session_id)
            ).all()
            return len(gone)

        return self._transaction(work, write=True)

    # ------------------------------------------------------------------ bindings

    def bind(
        self,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action | str = Action.BIND,
        validation_status: ValidationStatus | str = ValidationStatus.VALID,
        *,
        project_root: str | os.PathLike[str] | None = None,
    ) -> BindingRecord:
        """Bind an active session to a compiled mode and return the new binding.

        In one transaction: the session's binding row is inserted or replaced (``bound_at``
        and ``updated_at`` are now; ``created_at`` of an existing row is kept) and exactly one
        history row (``action``, success) is appended, whose id becomes the binding's
        ``version``, so history ids follow binding order. ``action`` is one of ``bind``,
        ``switch``, ``resume``, ``fallback``. The store does not check that ``mode_hash``
        names a stored artifact: artifacts may live in other tiers.

        With ``project_root``, a session id the store has never seen is adopted: the
        session row (active, of ``project_root``) is created in the bind's own transaction,
        so a host binds its own session ids with no separate creation step.

        Raises :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist
        (and is not adopted) or is not active, and ``ValueError`` for an unknown action or
        validation status, an empty mode file or hash, or a session id to adopt that
        :func:`check_session_id` refuses; nothing is written then.
        """
        if project_root is None and self._sql.bind_one is not None:
            bound = self._bind_one(session_id, mode_file, mode_hash, action, validation_status)
            if bound is not None:
                return bound
        return self.rebind(
            session_id, mode_file, mode_hash, action, validation_status, project_root=project_root
        ).binding

    def _bind_one(
        self,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action | str,
        validation_status: ValidationStatus | str,
    ) -> BindingRecord | None:
        """PostgreSQL's :meth:`bind` as one statement in a transaction of its own (two
        round trips fewer than BEGIN, lock, write, COMMIT). Raises as :meth:`bind`; None
        when the session became active meanwhile (the caller binds the locked way)."""
        act, status = _check_bind(action, mode_file, mode_hash, validation_status)
        params = {
            "sid": session_id,
            "mode_file": mode_file,
            "mode_hash": mode_hash,
            "validation_status": status.value,
            "action_type": act.value,
            "at": _now(),
        }

        driver = self._bind_one_driver
        if driver is not None:
            found_row = self._single_driver_call(driver, params)
            if found_row is not None:
                return _binding_of(found_row[1:])
        else:
            statement = self._sql.bind_one
            assert statement is not None

            def work(conn: Connection) -> AnyRow | None:
                return conn.execute(statement, params).one_or_none()

            row = self._transaction(work, write=True, single=True)
            if row is not None:
                return binding_record(row)
        found = self.get_session(session_id)  # nothing was written: say why
        _require_status_active(session_id, None if found is None else found.status)
        return None

    def rebind(
        self,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action | str = Action.BIND,
        validation_status: ValidationStatus | str = ValidationStatus.VALID,
        *,
        before: Callable[[BindingRecord | None], _R] | None = None,
        undo: Callable[[_R], object] | None = None,
        project_root: str | os.PathLike[str] | None = None,
    ) -> Rebinding[_R]:
        """:meth:`bind`, reporting the binding it replaced, read in the same transaction.

        The session row is locked first (SQLite: the write lock of ``BEGIN IMMEDIATE``;
        PostgreSQL: ``FOR NO KEY UPDATE`` through an update of its ``updated_at``), so
        concurrent rebinds of one session queue: each one's ``previous`` is exactly the
        binding it replaced. ``before(previous)`` runs under that lock before anything is
        written (a backup of the binding about to be replaced); if it raises, nothing is
        written. Should the transaction then fail or be retried, ``undo`` is called with
        each result of ``before`` that did not commit, so exactly one outcome survives.
        ``project_root`` adopts an unknown session id, as in :meth:`bind`.
        """
        act, status = _check_bind(action, mode_file, mode_hash, validation_status)
        adopted = None if project_root is None else self._new_session(session_id, project_root)
        prepared: list[_R] = []

        def driver_work(cursor: Any) -> Rebinding[_R]:
            return self._driver_rebind(
                cursor, session_id, mode_file, mode_hash, act, status, adopted, before, prepared
            )

        def work(conn: Connection) -> Rebinding[_R]:
            at = _now()
            self._touch_active(conn, session_id, at, adopt=adopted)
            if before is None and self._sql.write_binding is not None:
                # PostgreSQL: the replaced binding is read by the writing statement itself
                binding, history, previous = self._write_binding(
                    conn, session_id, mode_file, mode_hash, act, status, at
                )
                return Rebinding(previous, binding, history, None)
            row = conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()
            previous = None if row is None else binding_record(row)
            result: _R | None = None
            if before is not None:
                result = before(previous)
                prepared.append(result)
            binding, history, _ = self._write_binding(
                conn, session_id, mode_file, mode_hash, act, status, at
            )
            return Rebinding(previous, binding, history, result)

        try:
            if self._driver is not None:
                done = self._driver_transaction(driver_work)
            else:
                done = self._transaction(work, write=True)
        except BaseException:
            self._undo(undo, prepared)
            raise
        if prepared:
            self._undo(undo, prepared[:-1])  # attempts that were rolled back
        return done

    def _driver_rebind(
        self,
        cursor: Any,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action,
        status: ValidationStatus,
        adopted: dict[str, Any] | None,
        before: Callable[[BindingRecord | None], _R] | None,
        prepared: list[_R],
    ) -> Rebinding[_R]:
        """:meth:`rebind`'s transaction on SQLite, on the driver's cursor (under
        :meth:`_driver_transaction`'s ``BEGIN IMMEDIATE``): the same four statements (touch,
        read, append, upsert) without SQLAlchemy's per-execution work; an adopted session
        is inserted first."""
        sql = self._driver
        assert sql is not None
        at = _now()
        found = sql.touch_session.row(
            sql.touch_session.execute(cursor, {"sid": session_id, "at": at})
        )
        if found is None and adopted is not None:
            values = {**adopted, "created_at": at, "updated_at": at}
            found = sql.insert_session.row(sql.insert_session.execute(cursor, values))
            found = None if found is None else (SessionStatus.ACTIVE.value,)
        _require_status_active(session_id, None if found is None else found[0])
        row = sql.select_binding.row(sql.select_binding.execute(cursor, {"session_id": session_id}))
        previous = None if row is None else _binding_of(row)
        result: _R | None = None
        if before is not None:
            result = before(previous)
            prepared.append(result)
        entry = {
            "session_id": session_id,
            "action_type": action.value,
            "mode_file": mode_file,
            "mode_hash": mode_hash,
            "timestamp": at,
            "success": True,
            "error_message": None,
        }
        history_id = int(sql.insert_history.execute(cursor, entry).lastrowid)
        binding = BindingRecord(
            session_id=session_id,
            mode_file=mode_file,
            mode_hash=mode_hash,
            validation_status=status,
            bound_at=at,
            created_at=at if previous is None else previous.created_at,  # kept by the upsert
            updated_at=at,
            version=history_id,
        )
        sql.upsert_binding.execute(
            cursor,
            {
                "session_id": session_id,
                "mode_file": mode_file,
                "mode_hash": mode_hash,
                "validation_status": status.value,
                "bound_at": at,
                "created_at": at,
                "updated_at": at,
                "version": history_id,
            },
        )
        history = HistoryRecord(
            history_id, session_id, action, mode_file, mode_hash, at, True, None
        )
        return Rebinding(previous, binding, history, result)

    @staticmethod
    def _undo(undo: Callable[[_R], object] | None, results: list[_R]) -> None:
        if undo is not None:
            for result in results:
                undo(result)

    def _touch_active(
        self,
        conn: Connection,
        session_id: str,
        at: datetime,
        *,
        adopt: dict[str, Any] | None = None,
    ) -> bool:
        """Lock the active session (touching ``updated_at``); with ``adopt`` (the values of
        :meth:`_new_session`), create it first if there is none. True if it was created."""
        touch = {"sid": session_id, "at": at}
        status = conn.execute(self._sql.touch_session, touch).scalar_one_or_none()
        if status is None and adopt is not None:
            values = {**adopt, "created_at": at, "updated_at": at}
            if conn.execute(self._sql.insert_session, values).first() is not None:
                return True
            # Another transaction adopted it first (PostgreSQL: the insert waited for its
            # commit): lock the row it created.
            status = conn.execute(self._sql.touch_session, touch).scalar_one_or_none()
        _require_status_active(session_id, status)
        return False

    def adopt(
        self,
        session_id: str,
        project_root: str | os.PathLike[str],
        mode_file: str,
        mode_hash: str,
    ) -> Adoption:
        """Make sure a (host's) session id is an active, bound session, in one transaction.

        A session the store has never seen is created (active, of ``project_root``) and
        bound to ``mode_hash``; a session without a binding is bound; a bound session keeps
        its binding (``bound`` is false and ``binding`` is the one it has). Concurrent
        adoptions of one id create one session and write at most one binding. Raises
        :class:`~modec.diagnostics.SessionNotActiveError` for a terminated session and
        ``ValueError`` as :meth:`bind`; nothing is written then.
        """
        _check_bind(Action.BIND, mode_file, mode_hash)
        adopted = self._new_session(session_id, project_root)

        def work(conn: Connection) -> Adoption:
            at = _now()
            created = self._touch_active(conn, session_id, at, adopt=adopted)
            row = conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()
            if row is not None:
                return Adoption(binding_record(row), created=created, bound=False)
            binding, _, _ = self._write_binding(
                conn, session_id, mode_file, mode_hash, Action.BIND, ValidationStatus.VALID, at
            )
            return Adoption(binding, created=created, bound=True)

        return self._transaction(work, write=True)

    def _write_binding(
        self,
        conn: Connection,
        session_id: str,
        mode_file: str,
        mode_hash: str,
        action: Action,
        status: ValidationStatus,
        at: datetime,
    ) -> tuple[BindingRecord, HistoryRecord, BindingRecord | None]:
        """Append the history row and upsert the binding (its ``version`` the row's id);
        return the binding, the row, and on PostgreSQL the binding replaced (read by the
        same statement; SQLite: ``None``, callers read it first). On PostgreSQL this is
        one statement, on SQLite two."""
        if self._sql.write_binding is not None:
            params = {
                "session_id": session_id,
                "mode_file": mode_file,
                "mode_hash": mode_hash,
                "validation_status": status.value,
                "action_type": action.value,
                "at": at,
            }
            row = conn.execute(self._sql.write_binding, params).one()
            history = HistoryRecord(
                int(row.history_id), session_id, action, mode_file, mode_hash, at, True, None
            )
            previous = None
            if row.prev_session_id is not None:
                previous = BindingRecord(
                    session_id=row.prev_session_id,
                    mode_file=row.prev_mode_file,
                    mode_hash=row.prev_mode_hash,
                    validation_status=ValidationStatus(row.prev_validation_status),
                    bound_at=row.prev_bound_at,
                    created_at=row.prev_created_at,
                    updated_at=row.prev_updated_at,
                    version=int(row.prev_version),
                )
            return binding_record(row), history, previous
        history = self._append_history(
            conn,
            session_id,
            action,
            mode_file,
            mode_hash,
            success=True,
            error_message=None,
            at=at,
        )
        values = {
            "session_id": session_id,
            "mode_file": mode_file,
            "mode_hash": mode_hash,
            "validation_status": status.value,
            "bound_at": at,
            "created_at": at,
            "updated_at": at,
            "version": history.id,
        }
        binding = binding_record(conn.execute(self._sql.upsert_binding, values).one())
        return binding, history, None

    def get_binding(self, session_id: str) -> BindingRecord | None:
        """The session's current binding, or ``None`` if it was never bound (or unbound)."""

        def work(conn: Connection) -> AnyRow | None:
            return conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else binding_record(row)

    def probe(self, session_id: str) -> BindingProbe | None:
        """The session's status and binding version (0 without a binding), or ``None`` if
        there is no such session: one indexed read, for caches to check what they hold."""

        def work(conn: Connection) -> AnyRow | None:
            return conn.execute(self._sql.probe_binding, {"session_id": session_id}).one_or_none()

        row = self._transaction(work, write=False)
        if row is None:
            return None
        return BindingProbe(SessionStatus(row.status), int(row.version or 0))

    def list_bindings(self, active_only: bool = True) -> list[BindingRecord]:
        """Every binding (of active sessions only, unless told otherwise), by session id."""

        def work(conn: Connection) -> Sequence[AnyRow]:
            query = select(*self._binding_columns).order_by(self._t.bindings.c.session_id)
            if active_only:
                query = query.join(
                    self._t.sessions, self._t.sessions.c.session_id == self._t.bindings.c.session_id
                ).where(self._t.sessions.c.status == SessionStatus.ACTIVE.value)
            return conn.execute(query).all()

        return [binding_record(r) for r in self._transaction(work, write=False)]

    def mark_degraded(
        self, session_id: str, error: str, *, action: Action | str = Action.VALIDATE
    ) -> BindingRecord:
        """Mark the binding of an active session ``degraded`` and record why.

        The binding keeps its mode file and mode hash (the session goes on routing on that
        last good artifact); one failed history row (``action``, default ``validate``) with
        ``error`` as its message is appended in the same transaction, and becomes the
        binding's version. Raises :class:`~modec.diagnostics.SessionNotActiveError` if the
        session does not exist or is not active, and ``LookupError`` if it has no binding;
        nothing is written then.
        """
        act = Action(action)

        def work(conn: Connection) -> BindingRecord:
            at = _now()
            self._touch_active(conn, session_id, at)
            bound = conn.execute(self._sql.select_binding, {"session_id": session_id}).one_or_none()
            if bound is None:
                raise LookupError(f"session {session_id!r} has no binding to mark degraded")
            history = self._append_history(
                conn,
                session_id,
                act,
                bound.mode_file,
                bound.mode_hash,
                success=False,
                error_message=error,
                at=at,
            )
            row = conn.execute(
                update(self._t.bindings)
                .where(self._t.bindings.c.session_id == session_id)
                .values(
                    validation_status=ValidationStatus.DEGRADED.value,
                    updated_at=at,
                    version=history.id,
                )
                .returning(*self._binding_columns)
            ).one()
            return binding_record(row)

        return self._transaction(work, write=True)

    def unbind(self, session_id: str) -> BindingRecord | None:
        """Remove an active session's binding, recording ``unbind``; return what was removed.

        Returns ``None`` (and records nothing) if the session had no binding. Raises
        :class:`~modec.diagnostics.SessionNotActiveError` if the session does not exist or is
        not active.
        """

        def work(conn: Connection) -> BindingRecord | None:
            self._touch_active(conn, session_id, _now())
            row = conn.execute(
                delete(self._t.bindings)
                .where(self._t.bindings.c.session_id == session_id)
                .returning(*self._binding_columns)
            ).one_or_none()
            if row is None:
                return None
            binding = binding_record(row)
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

        def work(conn: Connection) -> Sequence[AnyRow]:
            query = select(*self._history_columns).where(self._t.history.c.session_id == session_id)
            if limit is None:
                return conn.execute(query.order_by(self._t.history.c.id)).all()
            newest = conn.execute(query.order_by(self._t.history.c.id.desc()).limit(limit)).all()
            return newest[::-1]

        return [history_record(r) for r in self._transaction(work, write=False)]

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

        def work(conn: Connection) -> AnyRow | None:
            return conn.execute(self._sql.select_artifact, {"mode_hash": mode_hash}).one_or_none()

        row = self._transaction(work, write=False)
        return None if row is None else (int(row.format), bytes(row.data))

    def delete_artifact(self, mode_hash: str) -> bool:
        """Delete the artifact stored under ``mode_hash``; ``True`` if there was one."""

        def work(conn: Connection) -> bool:
            stmt = (
                delete(self._t.artifacts)
                .where(self._t.artifacts.c.mode_hash == mode_hash)
                .returning(self._t.artifacts.c.mode_hash)
            )
            return conn.execute(stmt).first() is not None

        return self._transaction(work, write=True)


def _check_bind(
    action: Action | str,
    mode_file: str,
    mode_hash: str,
    validation_status: ValidationStatus | str = ValidationStatus.VALID,
) -> tuple[Action, ValidationStatus]:
    act = Action(action)
    if act not in BIND_ACTIONS:
        raise ValueError(
            f"bind action must be one of {sorted(a.value for a in BIND_ACTIONS)}, got {act}"
        )
    status = ValidationStatus(validation_status)
    if not mode_file or not mode_hash:
        raise ValueError("bind needs a mode file and a mode hash")
    return act, status


def _driver_call(call: Callable[[], object], sql: str) -> None:
    """Run a driver call (``sql`` names it), raising a failure as SQLAlchemy would, so the
    retry policy recognises a busy database."""
    try:
        call()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc


def _binding_of(row: tuple[Any, ...]) -> BindingRecord:
    """A binding record from the columns of ``BINDING_COLUMNS``, in that order."""
    session_id, mode_file, mode_hash, status, bound_at, created_at, updated_at, version = row
    return BindingRecord(
        session_id=session_id,
        mode_file=mode_file,
        mode_hash=mode_hash,
        validation_status=ValidationStatus(status),
        bound_at=bound_at,
        created_at=created_at,
        updated_at=updated_at,
        version=int(version),
    )


def _require_status_active(session_id: str, status: str | None) -> None:
    """Raise :class:`SessionNotActiveError` unless ``status`` (None: no such session) is active."""
    if status is None:
        raise SessionNotActiveError(f"session {session_id!r} does not exist")
    if status != SessionStatus.ACTIVE:
        raise SessionNotActiveError(f"session {session_id!r} is {status}, not active")
