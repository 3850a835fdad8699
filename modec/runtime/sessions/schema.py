"""The session schema: vocabulary, SQLAlchemy 2 typed models, and the frozen records the
store returns.

The tables are created and upgraded only by the Alembic migrations in
``modec/runtime/migrations/``; ``Base.metadata`` is their target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Final, TypeAlias

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "BIND_ACTIONS",
    "Action",
    "ArtifactRow",
    "Base",
    "BindingRecord",
    "BindingRow",
    "HistoryRecord",
    "HistoryRow",
    "SessionRecord",
    "SessionRow",
    "SessionStatus",
    "ValidationStatus",
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
    __table_args__ = (
        CheckConstraint(f"status IN ({_one_of(SessionStatus)})", name="status"),
        Index("ix_sessions_project_root_status_seq", "project_root", "status", "seq"),
        Index("ix_sessions_status_seq", "status", "seq"),
        Index("ix_sessions_status_updated_at", "status", "updated_at"),
        Index("uq_sessions_seq", "seq", unique=True),
    )

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    project_root: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Creation order, assigned by the database (an identity on PostgreSQL, max + 1 under
    # SQLite's write lock): never a process's wall clock.
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
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
    # The id of the history row that last wrote the binding: grows with every change.
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")


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
    SessionRow.session_id,
    SessionRow.project_root,
    SessionRow.status,
    SessionRow.created_at,
    SessionRow.updated_at,
    SessionRow.terminated_at,
    SessionRow.seq,
)
BINDING_COLUMNS: Final = (
    BindingRow.session_id,
    BindingRow.mode_file,
    BindingRow.mode_hash,
    BindingRow.validation_status,
    BindingRow.bound_at,
    BindingRow.created_at,
    BindingRow.updated_at,
    BindingRow.version,
)
HISTORY_COLUMNS: Final = (
    HistoryRow.id,
    HistoryRow.session_id,
    HistoryRow.action_type,
    HistoryRow.mode_file,
    HistoryRow.mode_hash,
    HistoryRow.timestamp,
    HistoryRow.success,
    HistoryRow.error_message,
)


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
