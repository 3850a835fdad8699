"""The session schema: vocabulary, SQLAlchemy 2 typed models, and the frozen records the
store returns.

The tables are defined once, by :func:`tables` (a prefix for every name, a PostgreSQL
schema), and created and upgraded only by the Alembic migrations in
``modec/runtime/migrations/``, whose target is ``tables(prefix, schema).metadata``;
``Base`` maps the default (unprefixed) tables for ORM readers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeAlias

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped

from modec.diagnostics import ModecError

__all__ = [
    "BIND_ACTIONS",
    "DEFAULT_TABLES",
    "MAX_PREFIX_LENGTH",
    "Action",
    "ArtifactRow",
    "Base",
    "BindingRecord",
    "BindingRow",
    "DatabaseNamingError",
    "HistoryRecord",
    "HistoryRow",
    "SessionRecord",
    "SessionRow",
    "SessionStatus",
    "Tables",
    "ValidationStatus",
    "check_schema_name",
    "check_table_prefix",
    "prefixed",
    "tables",
]

AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"


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


# --------------------------------------------------------------------------- tables


class DatabaseNamingError(ModecError, ValueError):
    """A table prefix or schema name that modec refuses (also a :class:`ValueError`)."""

    suggestion = (
        "use lowercase letters, digits and '_' (starting with a letter), for example "
        "table_prefix='modec_' or schema='modec'"
    )


#: Longest table prefix: every name modec derives from one stays within PostgreSQL's 63.
MAX_PREFIX_LENGTH: Final = 16
_MAX_IDENTIFIER: Final = 63
_PREFIX: Final = re.compile(r"[a-z][a-z0-9_]*")
_SCHEMA: Final = re.compile(r"[a-z_][a-z0-9_]*")


def check_table_prefix(prefix: str) -> str:
    """``prefix`` if modec accepts it as the prefix of its table, index, constraint and
    sequence names: empty (today's names), or lowercase ASCII letters, digits and ``_``,
    starting with a letter, at most :data:`MAX_PREFIX_LENGTH` characters. Raises
    :class:`DatabaseNamingError` otherwise.

    >>> check_table_prefix("modec_")
    'modec_'
    """
    if not isinstance(prefix, str):
        raise DatabaseNamingError(f"table prefix must be a string, got {type(prefix).__name__}")
    if prefix and (len(prefix) > MAX_PREFIX_LENGTH or _PREFIX.fullmatch(prefix) is None):
        raise DatabaseNamingError(
            f"table prefix {prefix!r} is not allowed: modec's table prefixes are 1 to "
            f"{MAX_PREFIX_LENGTH} lowercase letters, digits and '_', starting with a letter"
        )
    return prefix


def check_schema_name(schema: str | None) -> str | None:
    """``schema`` if modec accepts it as the PostgreSQL schema of its tables (``None``: the
    connection's ``search_path``): lowercase ASCII letters, digits and ``_``, at most 63
    characters, not ``pg_…``. Raises :class:`DatabaseNamingError` otherwise."""
    if schema is None:
        return None
    if not isinstance(schema, str):
        raise DatabaseNamingError(f"schema must be a string, got {type(schema).__name__}")
    if (
        len(schema) > _MAX_IDENTIFIER
        or _SCHEMA.fullmatch(schema) is None
        or schema.startswith("pg_")
    ):
        raise DatabaseNamingError(
            f"schema name {schema!r} is not allowed: modec's schema names are 1 to "
            f"{_MAX_IDENTIFIER} lowercase letters, digits and '_', not starting with 'pg_'"
        )
    return schema


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """modec's four tables under one prefix and schema, on their own ``metadata``; built by
    :func:`tables`, the one owner of the table definitions (the migrations create the same
    names through :meth:`name`)."""

    prefix: str
    schema: str | None
    metadata: MetaData
    sessions: Table
    bindings: Table
    history: Table
    artifacts: Table

    @property
    def version_table(self) -> str:
        """Alembic's version table of modec's migrations (in :attr:`schema`)."""
        return f"{self.prefix}alembic_version"

    @property
    def names(self) -> frozenset[str]:
        """The names of modec's tables, the version table included."""
        return frozenset(t.name for t in self.metadata.sorted_tables) | {self.version_table}

    def name(self, base: str) -> str:
        """The name of table, index or constraint ``base`` under this prefix
        (:func:`prefixed`)."""
        return prefixed(self.prefix, base)


_NAME_KINDS: Final = frozenset({"pk", "ix", "uq", "ck", "fk"})


def prefixed(prefix: str, base: str) -> str:
    """The name of table, index or constraint ``base`` under ``prefix``: ``prefix + base``,
    with a ``pk_``/``ix_``/``uq_``/``ck_``/``fk_`` kind kept in front.

    >>> prefixed("modec_", "sessions"), prefixed("modec_", "ix_sessions_status")
    ('modec_sessions', 'ix_modec_sessions_status')
    """
    kind, sep, rest = base.partition("_")
    if sep and kind in _NAME_KINDS:
        return f"{kind}_{prefix}{rest}"
    return prefix + base


@functools.cache
def tables(prefix: str = "", schema: str | None = None) -> Tables:
    """modec's tables named ``prefix + name`` in ``schema`` (``None``: the search path);
    cached, so every store with the same names shares one set. ``tables()`` are today's
    unprefixed names, which :class:`Base` maps. Raises :class:`DatabaseNamingError` for a
    prefix or schema modec refuses (:func:`check_table_prefix`, :func:`check_schema_name`).

    >>> tables("modec_").sessions.name
    'modec_sessions'
    """
    prefix = check_table_prefix(prefix)
    schema = check_schema_name(schema)
    metadata = MetaData(schema=schema)

    def n(base: str) -> str:
        return prefixed(prefix, base)

    def utc(name: str, *, nullable: bool = False) -> Column[datetime]:
        return Column(name, _UTCDateTime(), nullable=nullable)

    sessions = Table(
        n("sessions"),
        metadata,
        Column("session_id", String(128), nullable=False),
        Column("project_root", Text(), nullable=False),
        Column("status", String(16), nullable=False),
        # Creation order, assigned by the database (an identity on PostgreSQL, max + 1
        # under SQLite's write lock): never a process's wall clock.
        Column("seq", BigInteger(), Identity(), nullable=False),
        utc("created_at"),
        utc("updated_at"),
        utc("terminated_at", nullable=True),
        PrimaryKeyConstraint("session_id", name=n("pk_sessions")),
        CheckConstraint(f"status IN ({_one_of(SessionStatus)})", name=n("ck_sessions_status")),
    )
    Index(n("ix_sessions_status"), sessions.c.status)
    Index(
        n("ix_sessions_project_root_status_seq"),
        sessions.c.project_root,
        sessions.c.status,
        sessions.c.seq,
    )
    Index(n("ix_sessions_status_seq"), sessions.c.status, sessions.c.seq)
    Index(n("ix_sessions_status_updated_at"), sessions.c.status, sessions.c.updated_at)
    Index(n("uq_sessions_seq"), sessions.c.seq, unique=True)
    bindings = Table(
        n("session_mode_bindings"),
        metadata,
        Column("session_id", String(128), nullable=False),
        Column("mode_file", Text(), nullable=False),
        utc("bound_at"),
        Column("validation_status", String(16), nullable=False),
        Column("mode_hash", String(128), nullable=False),
        utc("created_at"),
        utc("updated_at"),
        # The id of the history row that last wrote the binding: grows with every change.
        Column("version", BigInteger(), nullable=False, server_default="0"),
        PrimaryKeyConstraint("session_id", name=n("pk_session_mode_bindings")),
        ForeignKeyConstraint(
            ["session_id"],
            [sessions.c.session_id],
            name=n("fk_session_mode_bindings_session_id_sessions"),
            ondelete="CASCADE",
        ),
        CheckConstraint(
            f"validation_status IN ({_one_of(ValidationStatus)})",
            name=n("ck_session_mode_bindings_validation_status"),
        ),
    )
    history = Table(
        n("mode_usage_history"),
        metadata,
        Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
        Column("session_id", String(128), nullable=False),
        Column("mode_file", Text(), nullable=True),
        Column("mode_hash", String(128), nullable=True),
        Column("action_type", String(16), nullable=False),
        utc("timestamp"),
        Column("success", Boolean(), nullable=False),
        Column("error_message", Text(), nullable=True),
        PrimaryKeyConstraint("id", name=n("pk_mode_usage_history")),
        ForeignKeyConstraint(
            ["session_id"],
            [sessions.c.session_id],
            name=n("fk_mode_usage_history_session_id_sessions"),
            ondelete="CASCADE",
        ),
        CheckConstraint(
            f"action_type IN ({_one_of(Action)})", name=n("ck_mode_usage_history_action_type")
        ),
    )
    Index(n("ix_mode_usage_history_session_id_id"), history.c.session_id, history.c.id)
    artifacts = Table(
        n("compiled_artifacts"),
        metadata,
        Column("mode_hash", String(128), nullable=False),
        Column("format", Integer(), nullable=False),
        Column("data", LargeBinary(), nullable=False),
        utc("created_at"),
        PrimaryKeyConstraint("mode_hash", name=n("pk_compiled_artifacts")),
    )
    return Tables(prefix, schema, metadata, sessions, bindings, history, artifacts)


#: The default tables (no prefix, the search path's schema): what :class:`Base` maps.
DEFAULT_TABLES: Final = tables()


class Base(DeclarativeBase):
    """Declarative base mapping the default tables (``tables()``), for ORM readers; the store
    itself works on Core tables from :func:`tables`. ``Base.metadata`` is their metadata."""

    metadata = DEFAULT_TABLES.metadata


class SessionRow(Base):
    __table__ = DEFAULT_TABLES.sessions

    session_id: Mapped[str]
    project_root: Mapped[str]
    status: Mapped[str]
    seq: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    terminated_at: Mapped[datetime | None]


class BindingRow(Base):
    __table__ = DEFAULT_TABLES.bindings

    session_id: Mapped[str]
    mode_file: Mapped[str]
    bound_at: Mapped[datetime]
    validation_status: Mapped[str]
    mode_hash: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class HistoryRow(Base):
    __table__ = DEFAULT_TABLES.history

    id: Mapped[int]
    session_id: Mapped[str]
    mode_file: Mapped[str | None]
    mode_hash: Mapped[str | None]
    action_type: Mapped[str]
    timestamp: Mapped[datetime]
    success: Mapped[bool]
    error_message: Mapped[str | None]


class ArtifactRow(Base):
    __table__ = DEFAULT_TABLES.artifacts

    mode_hash: Mapped[str]
    format: Mapped[int]
    data: Mapped[bytes]
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
    seq: int = 0

    @property
    def is_active(self) -> bool:
        return self.status is SessionStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class BindingRecord:
    """A session's binding. ``version`` is the id of the history row that wrote it (the
    bind, switch, resume, fallback or degrading validation): it grows with every change of
    the binding, so a reader can tell a binding it holds from a newer one."""

    session_id: str
    mode_file: str
    mode_hash: str
    validation_status: ValidationStatus
    bound_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int = 0


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


SESSION_COLUMNS: Final = (
    "session_id",
    "project_root",
    "status",
    "created_at",
    "updated_at",
    "terminated_at",
    "seq",
)
BINDING_COLUMNS: Final = (
    "session_id",
    "mode_file",
    "mode_hash",
    "validation_status",
    "bound_at",
    "created_at",
    "updated_at",
    "version",
)
HISTORY_COLUMNS: Final = (
    "id",
    "session_id",
    "action_type",
    "mode_file",
    "mode_hash",
    "timestamp",
    "success",
    "error_message",
)


def columns(table: Table, names: tuple[str, ...]) -> tuple[Column[Any], ...]:
    """The columns ``names`` of ``table``, in that order (what a record is read from)."""
    return tuple(table.c[name] for name in names)


def session_record(row: AnyRow) -> SessionRecord:
    return SessionRecord(
        session_id=row.session_id,
        project_root=row.project_root,
        status=SessionStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        terminated_at=row.terminated_at,
        seq=int(row.seq or 0),
    )


def binding_record(row: AnyRow) -> BindingRecord:
    return BindingRecord(
        session_id=row.session_id,
        mode_file=row.mode_file,
        mode_hash=row.mode_hash,
        validation_status=ValidationStatus(row.validation_status),
        bound_at=row.bound_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=int(row.version),
    )


def history_record(row: AnyRow) -> HistoryRecord:
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


def now() -> datetime:
    return datetime.now(UTC)
