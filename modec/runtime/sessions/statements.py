"""The session store's prebuilt SQL statements, one set per dialect."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Dialect, Executable, Table, bindparam, func, insert, select, true, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError

from modec.runtime.sessions.schema import (
    BINDING_COLUMNS,
    HISTORY_COLUMNS,
    SESSION_COLUMNS,
    SessionStatus,
    Tables,
    columns,
)

__all__ = [
    "DriverBind",
    "DriverStatement",
    "NamedDriverStatement",
    "Statements",
    "driver_bind",
    "named_driver_statement",
    "statements",
]


# --------------------------------------------------------------------------- statements

_BINDING_CHANGES: Final = (
    "mode_file",
    "mode_hash",
    "validation_status",
    "bound_at",
    "updated_at",
    "version",
)


@dataclass(frozen=True, slots=True)
class Statements:
    """The store's hot statements, built once per dialect. Executing a prebuilt statement with
    parameters reuses its memoized cache key and compiled form; building the statements on
    every call made a SQLite bind take 3.5 times as long."""

    status_share: Executable  # the session's status, FOR SHARE on PostgreSQL
    status_exclusive: Executable  # FOR NO KEY UPDATE on PostgreSQL
    touch_session: Executable  # UPDATE updated_at RETURNING status: locks the row for binds
    insert_session: Executable  # ON CONFLICT DO NOTHING RETURNING
    select_session: Executable
    latest_session: Executable  # the project's newest active session, by seq
    upsert_binding: Executable  # ON CONFLICT (session_id) DO UPDATE RETURNING
    select_binding: Executable
    probe_binding: Executable  # status and binding version, one indexed read
    insert_history: Executable  # RETURNING the row on PostgreSQL; SQLite reads lastrowid
    #: PostgreSQL: the history row, the binding upsert (its version the row's id) and the
    #: binding it replaces, in one statement (None on SQLite, which has no DML in CTEs).
    write_binding: Executable | None
    #: PostgreSQL: a whole bind in one statement (lock, history row, upsert), for a
    #: transaction of its own; no row when the session is not active (None on SQLite).
    bind_one: Executable | None
    insert_artifact: Executable  # ON CONFLICT DO NOTHING RETURNING
    select_artifact: Executable


def _write_binding(tables: Tables) -> Executable:
    """PostgreSQL's bind in one statement, run after the session row is locked (so its
    snapshot sees the binding the lock protects): ``prev`` (the binding replaced), ``hist``
    (the history row), ``up`` (the upsert, ``version`` = the history row's id). Parameters:
    ``session_id``, ``mode_file``, ``mode_hash``, ``validation_status``, ``action_type``,
    ``at``. Columns: ``history_id``, the binding's, and the previous binding's as ``prev_*``."""
    history, bindings = tables.history, tables.bindings
    at = bindparam("at", type_=bindings.c.bound_at.type)
    hist = (
        insert(history)
        .values(
            session_id=bindparam("session_id"),
            action_type=bindparam("action_type"),
            mode_file=bindparam("mode_file"),
            mode_hash=bindparam("mode_hash"),
            timestamp=at,
            success=True,
            error_message=None,
        )
        .returning(history.c.id)
        .cte("hist")
    )
    source = select(
        bindparam("session_id", type_=bindings.c.session_id.type),
        bindparam("mode_file", type_=bindings.c.mode_file.type),
        bindparam("mode_hash", type_=bindings.c.mode_hash.type),
        bindparam("validation_status", type_=bindings.c.validation_status.type),
        at,
        at,
        at,
        hist.c.id,
    )
    upsert = pg_dialect.insert(bindings).from_select(
        list(BINDING_COLUMNS),
        source,
    )
    up = (
        upsert.on_conflict_do_update(
            index_elements=[bindings.c.session_id],
            set_={name: upsert.excluded[name] for name in _BINDING_CHANGES},
        )
        .returning(*columns(bindings, BINDING_COLUMNS))
        .cte("up")
    )
    prev = (
        select(*columns(bindings, BINDING_COLUMNS))
        .where(bindings.c.session_id == bindparam("session_id"))
        .cte("prev")
    )
    return (
        select(
            hist.c.id.label("history_id"),
            *(up.c[name] for name in BINDING_COLUMNS),
            *(prev.c[name].label(f"prev_{name}") for name in BINDING_COLUMNS),
        )
        .select_from(hist)
        .join(up, true())
        .outerjoin(prev, true())
    )


def _bind_one(tables: Tables) -> Executable:
    """PostgreSQL's whole bind as one statement, its own transaction: ``touched`` locks the
    active session row (touching ``updated_at``; no row if it is missing or not active, and
    then nothing is written), ``hist`` appends the history row after the lock is held, so
    history ids (and binding versions) follow lock order, and ``up`` upserts the binding
    (ON CONFLICT sees the latest committed binding). Parameters as
    :func:`_write_binding`'s, ``sid`` for ``session_id``; columns ``history_id`` and the
    binding's. It does not read
    the binding it replaces: a statement's snapshot predates its lock wait."""
    sessions, history, bindings = tables.sessions, tables.history, tables.bindings
    at = bindparam("at", type_=bindings.c.bound_at.type)
    touched = (
        update(sessions)
        .where(
            # "sid", not "session_id": an UPDATE takes a parameter named like one of its
            # columns as a value to SET
            sessions.c.session_id == bindparam("sid"),
            sessions.c.status == SessionStatus.ACTIVE.value,
        )
        .values(updated_at=at)
        .returning(sessions.c.session_id)
        .cte("touched")
    )
    hist = (
        insert(history)
        .from_select(
            ["session_id", "action_type", "mode_file", "mode_hash", "timestamp", "success"],
            select(
                touched.c.session_id,
                bindparam("action_type", type_=history.c.action_type.type),
                bindparam("mode_file", type_=history.c.mode_file.type),
                bindparam("mode_hash", type_=history.c.mode_hash.type),
                at,
                true(),
            ),
        )
        .returning(history.c.id, history.c.session_id)
        .cte("hist")
    )
    upsert = pg_dialect.insert(bindings).from_select(
        list(BINDING_COLUMNS),
        select(
            hist.c.session_id,
            bindparam("mode_file", type_=bindings.c.mode_file.type),
            bindparam("mode_hash", type_=bindings.c.mode_hash.type),
            bindparam("validation_status", type_=bindings.c.validation_status.type),
            at,
            at,
            at,
            hist.c.id,
        ),
    )
    up = (
        upsert.on_conflict_do_update(
            index_elements=[bindings.c.session_id],
            set_={name: upsert.excluded[name] for name in _BINDING_CHANGES},
        )
        .returning(*columns(bindings, BINDING_COLUMNS))
        .cte("up")
    )
    return (
        select(hist.c.id.label("history_id"), *(up.c[name] for name in BINDING_COLUMNS))
        .select_from(hist)
        .join(up, true())
    )


def _dialect_insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return pg_dialect.insert(table)
    return sqlite_dialect.insert(table)


@functools.cache
def statements(dialect: str, tables: Tables) -> Statements:
    """The statements of ``dialect`` on ``tables`` (built once per pair)."""
    sessions, bindings, history, artifacts = (
        tables.sessions,
        tables.bindings,
        tables.history,
        tables.artifacts,
    )
    session_columns = columns(sessions, SESSION_COLUMNS)
    binding_columns = columns(bindings, BINDING_COLUMNS)
    by_session = sessions.c.session_id == bindparam("session_id")
    status = select(sessions.c.status).where(by_session)
    upsert = _dialect_insert(dialect, bindings)
    insert_session = _dialect_insert(dialect, sessions)
    if dialect == "sqlite":
        # SQLite has no sequences; writers hold the database lock, so max + 1 is unique.
        next_seq = select(func.coalesce(func.max(sessions.c.seq), 0) + 1).scalar_subquery()
        insert_session = insert_session.values(seq=next_seq)
    return Statements(
        status_share=status.with_for_update(read=True),
        status_exclusive=status.with_for_update(key_share=True),
        touch_session=update(sessions)
        .where(sessions.c.session_id == bindparam("sid"))
        .values(updated_at=bindparam("at"))
        .returning(sessions.c.status),
        insert_session=insert_session.on_conflict_do_nothing().returning(*session_columns),
        select_session=select(*session_columns).where(by_session),
        latest_session=select(*session_columns)
        .where(
            sessions.c.project_root == bindparam("project_root"),
            sessions.c.status == SessionStatus.ACTIVE.value,
        )
        .order_by(sessions.c.seq.desc())
        .limit(1),
        upsert_binding=upsert.on_conflict_do_update(
            index_elements=[bindings.c.session_id],
            set_={name: upsert.excluded[name] for name in _BINDING_CHANGES},
        ).returning(*binding_columns),
        select_binding=select(*binding_columns).where(
            bindings.c.session_id == bindparam("session_id")
        ),
        probe_binding=select(sessions.c.status, bindings.c.version)
        .select_from(sessions)
        .outerjoin(bindings, bindings.c.session_id == sessions.c.session_id)
        .where(by_session),
        insert_history=insert(history)
        if dialect == "sqlite"
        else insert(history).returning(*columns(history, HISTORY_COLUMNS)),
        write_binding=_write_binding(tables) if dialect == "postgresql" else None,
        bind_one=_bind_one(tables) if dialect == "postgresql" else None,
        insert_artifact=_dialect_insert(dialect, artifacts)
        .on_conflict_do_nothing()
        .returning(artifacts.c.mode_hash),
        select_artifact=select(artifacts.c.format, artifacts.c.data).where(
            artifacts.c.mode_hash == bindparam("mode_hash")
        ),
    )


# --------------------------------------------------------------------------- driver level


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled once to the driver's SQL, executed on the driver's cursor with
    the column types' own bind and result processors (what SQLAlchemy would apply): a
    SQLite bind spends most of its time in SQLAlchemy's per-execution machinery otherwise."""

    sql: str
    names: tuple[str, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    constants: Mapping[str, Any]  # values the statement itself binds (a literal's)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        params = []
        for name, bind in zip(self.names, self.binds, strict=True):
            value = values[name] if name in values else self.constants[name]
            params.append(value if bind is None else bind(value))
        try:
            cursor.execute(self.sql, params)
        except sqlite3.Error as exc:  # as SQLAlchemy would raise it (retries read that)
            raise DBAPIError.instance(self.sql, params, exc, sqlite3.Error) from exc
        return cursor

    def row(self, cursor: Any) -> tuple[Any, ...] | None:
        return _next_row(cursor, self.results)


def _next_row(
    cursor: Any, results: tuple[Callable[[Any], Any] | None, ...]
) -> tuple[Any, ...] | None:
    """The cursor's next row through the columns' result processors, or None."""
    found = cursor.fetchone()
    if found is None:
        return None
    return tuple(
        value if result is None else result(value)
        for value, result in zip(found, results, strict=True)
    )


def _result_processors(statement: Any, dialect: Dialect) -> tuple[Callable[[Any], Any] | None, ...]:
    """The result processor of each column ``statement`` selects or returns."""
    columns_: Any = getattr(statement, "selected_columns", None)
    if columns_ is None:
        columns_ = getattr(statement, "_returning", ())
    return tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns_
    )


def driver_statement(
    statement: Any, dialect: Dialect, keys: Sequence[str] | None = None
) -> DriverStatement:
    """``statement`` compiled for ``dialect`` (positional parameters; ``keys``: the
    parameters an INSERT is given)."""
    compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
    names = tuple(compiled.positiontup or ())
    binds = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    results = _result_processors(statement, dialect)
    given = set(keys or ())
    constants = {
        name: compiled.binds[name].value
        for name in names
        if compiled.binds[name].value is not None and name not in given
    }
    return DriverStatement(str(compiled), names, binds, results, constants)


@dataclass(frozen=True, slots=True)
class NamedDriverStatement:
    """A statement compiled once for a driver with named parameters (psycopg's), executed
    on the driver's cursor with the column types' own bind and result processors, as
    :class:`DriverStatement` is for SQLite: PostgreSQL's one-statement bind spent as long
    in SQLAlchemy's per-execution machinery as in the server."""

    sql: str
    binds: Mapping[str, Callable[[Any], Any] | None]
    results: tuple[Callable[[Any], Any] | None, ...]
    constants: Mapping[str, Any]  # values the statement itself binds (a literal's)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        params = {}
        for name, bind in self.binds.items():
            value = values[name] if name in values else self.constants[name]
            params[name] = value if bind is None else bind(value)
        cursor.execute(self.sql, params)
        return cursor

    def row(self, cursor: Any) -> tuple[Any, ...] | None:
        return _next_row(cursor, self.results)


def named_driver_statement(statement: Any, dialect: Dialect) -> NamedDriverStatement:
    """``statement`` (a SELECT, or a statement with RETURNING) compiled for ``dialect``,
    whose parameters are named (``pyformat``)."""
    compiled = statement.compile(dialect=dialect)
    binds = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for name, bind in compiled.binds.items()
    }
    results = _result_processors(statement, dialect)
    constants = {
        name: bind.value for name, bind in compiled.binds.items() if bind.value is not None
    }
    return NamedDriverStatement(str(compiled), binds, results, constants)


@dataclass(frozen=True, slots=True)
class DriverBind:
    """SQLite's bind statements at the driver level (see :class:`DriverStatement`)."""

    touch_session: DriverStatement  # parameters sid, at; one column: status
    insert_session: DriverStatement  # a session to adopt (RETURNING its columns)
    select_binding: DriverStatement  # parameter session_id; the binding's columns
    insert_history: DriverStatement  # the history row's columns but id
    upsert_binding: DriverStatement  # the binding's columns (no RETURNING)


HISTORY_KEYS: Final = tuple(name for name in HISTORY_COLUMNS if name != "id")
SESSION_KEYS: Final = tuple(name for name in SESSION_COLUMNS if name != "seq")


def driver_bind(dialect: Dialect, tables: Tables) -> DriverBind:
    """The SQLite bind statements of ``tables`` compiled for ``dialect``."""
    sql = statements(dialect.name, tables)
    upsert = sqlite_dialect.insert(tables.bindings)
    upsert = upsert.on_conflict_do_update(
        index_elements=[tables.bindings.c.session_id],
        set_={name: upsert.excluded[name] for name in _BINDING_CHANGES},
    )
    return DriverBind(
        touch_session=driver_statement(sql.touch_session, dialect),
        insert_session=driver_statement(sql.insert_session, dialect, SESSION_KEYS),
        select_binding=driver_statement(sql.select_binding, dialect),
        insert_history=driver_statement(insert(tables.history), dialect, HISTORY_KEYS),
        upsert_binding=driver_statement(upsert, dialect, BINDING_COLUMNS),
    )
