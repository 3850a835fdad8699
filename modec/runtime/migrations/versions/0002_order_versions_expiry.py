"""Order and versions from the database, indexes for status, current session and expiry.

* ``sessions.seq``: creation order assigned by the database (an identity column on
  PostgreSQL; on SQLite the store assigns max + 1 under the write lock), replacing the
  creating process's wall clock as the order of sessions;
* ``session_mode_bindings.version``: the id of the history row that last wrote the binding,
  so another process can tell in one indexed read whether a binding it caches changed;
* indexes for ``current_session`` (project, status, seq), ``status`` (status, seq) and
  session expiry (status, updated_at).

Every name goes through the store's prefix and schema (``migration_tables``); with the
default (no prefix, no schema) the DDL is what this revision has always run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from modec.runtime.migrations.naming import migration_tables, qualified

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_sessions_project_root_status_seq": ["project_root", "status", "seq"],
    "ix_sessions_status_seq": ["status", "seq"],
    "ix_sessions_status_updated_at": ["status", "updated_at"],
}


def upgrade() -> None:
    names = migration_tables()
    n, schema = names.name, names.schema
    sessions, bindings = n("sessions"), n("session_mode_bindings")
    q_sessions, q_bindings = qualified("sessions"), qualified("session_mode_bindings")
    q_history = qualified("mode_usage_history")
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            sessions,
            sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
            schema=schema,
        )
        # existing rows got identity values in no particular order: number them by age
        op.execute(
            f"UPDATE {q_sessions} AS s SET seq = ordered.n FROM (SELECT session_id, "
            f"row_number() OVER (ORDER BY created_at, session_id) AS n FROM {q_sessions}) "
            "AS ordered WHERE s.session_id = ordered.session_id"
        )
        op.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, 'seq'), "
                f"coalesce((SELECT max(seq) FROM {q_sessions}), 0) + 1, false)"
            ).bindparams(table=q_sessions)
        )
    else:
        op.add_column(sessions, sa.Column("seq", sa.BigInteger(), nullable=True), schema=schema)
        op.execute(
            f"UPDATE {q_sessions} SET seq = (SELECT count(*) FROM {q_sessions} AS older WHERE "
            f"older.created_at < {q_sessions}.created_at OR (older.created_at = "
            f"{q_sessions}.created_at AND older.session_id <= {q_sessions}.session_id))"
        )
    op.create_index(n("uq_sessions_seq"), sessions, ["seq"], unique=True, schema=schema)
    for name, columns in _INDEXES.items():
        op.create_index(n(name), sessions, columns, schema=schema)
    op.add_column(
        bindings,
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
        schema=schema,
    )
    op.execute(
        f"UPDATE {q_bindings} SET version = coalesce((SELECT max(h.id) FROM {q_history} AS h "
        f"WHERE h.session_id = {q_bindings}.session_id), 0)"
    )


def downgrade() -> None:
    names = migration_tables()
    n, schema = names.name, names.schema
    with op.batch_alter_table(n("session_mode_bindings"), schema=schema) as batch:
        batch.drop_column("version")
    for name in _INDEXES:
        op.drop_index(n(name), table_name=n("sessions"), schema=schema)
    op.drop_index(n("uq_sessions_seq"), table_name=n("sessions"), schema=schema)
    with op.batch_alter_table(n("sessions"), schema=schema) as batch:
        batch.drop_column("seq")
