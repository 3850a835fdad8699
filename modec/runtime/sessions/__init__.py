"""Sessions, their mode bindings, the usage history and the shared artifact table, in SQL.

This is the only package in modec that builds SQL: the schema as SQLAlchemy 2 typed ORM
models (:mod:`.schema`), engines, retries and migrations (:mod:`.engine`), and
:class:`SessionBindingStore` (:mod:`.store`), the one object the runtime uses to read and
write it. The schema itself is created and upgraded only by the Alembic migrations shipped in
``modec/runtime/migrations/``; a store runs them when it opens a database.

Backends: SQLite (the default: a file, WAL journal, ``synchronous=FULL``, ``busy_timeout``,
foreign keys on) and
PostgreSQL (``postgresql+psycopg://…``). Both are safe for many processes and machines at once:

* every write is one transaction; a bind reads the binding it replaces, upserts the binding
  row and appends exactly one history row in the same transaction, so a crash leaves the old
  binding or the new one, and concurrent binds of one session each replace exactly one;
* upserts and insert-if-absent use ``INSERT … ON CONFLICT``, which is race-free on both;
* on SQLite, write transactions start with ``BEGIN IMMEDIATE`` (so they queue on the busy
  handler instead of failing on a stale read snapshot); on PostgreSQL a bind locks its session
  row (an update of ``updated_at``), so binds of one session and a terminate queue;
* transient failures (SQLite "database is locked", PostgreSQL serialization failures and
  deadlocks) are retried with bounded, jittered exponential backoff (tenacity);
* concurrent first starts migrate once: PostgreSQL under a transaction-level advisory lock,
  SQLite inside one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional).

Timestamps are timezone-aware UTC on the way in and on the way out, on both backends. Order
never comes from a clock: sessions carry a database sequence (``seq``), bindings the id of
the history row that wrote them (``version``).

>>> store = SessionBindingStore("sqlite://")
>>> s = store.create_session("s1", project_root="/tmp/project")
>>> b = store.bind("s1", "default_roles.yaml", "sha256:" + "0" * 64)
>>> (b.mode_file, b.validation_status.value)
('default_roles.yaml', 'valid')
>>> [h.action_type.value for h in store.history("s1")]
['bind']
>>> store.dispose()
"""

from modec.runtime.sessions.engine import (
    SUPPORTED_DIALECTS,
    head_revision,
    is_transient,
    make_engine,
    retrying,
    sqlite_url,
)
from modec.runtime.sessions.schema import (
    BIND_ACTIONS,
    DEFAULT_TABLES,
    MAX_PREFIX_LENGTH,
    Action,
    ArtifactRow,
    Base,
    BindingRecord,
    BindingRow,
    DatabaseNamingError,
    HistoryRecord,
    HistoryRow,
    SessionRecord,
    SessionRow,
    SessionStatus,
    Tables,
    ValidationStatus,
    check_schema_name,
    check_table_prefix,
    tables,
)
from modec.runtime.sessions.store import (
    MAX_SESSION_ID,
    Adoption,
    BindingProbe,
    Rebinding,
    SessionBindingStore,
    check_session_id,
)

__all__ = [
    "BIND_ACTIONS",
    "DEFAULT_TABLES",
    "MAX_PREFIX_LENGTH",
    "MAX_SESSION_ID",
    "SUPPORTED_DIALECTS",
    "Action",
    "Adoption",
    "ArtifactRow",
    "Base",
    "BindingProbe",
    "BindingRecord",
    "BindingRow",
    "DatabaseNamingError",
    "HistoryRecord",
    "HistoryRow",
    "Rebinding",
    "SessionBindingStore",
    "SessionRecord",
    "SessionRow",
    "SessionStatus",
    "Tables",
    "ValidationStatus",
    "check_schema_name",
    "check_session_id",
    "check_table_prefix",
    "head_revision",
    "is_transient",
    "make_engine",
    "retrying",
    "sqlite_url",
    "tables",
]
