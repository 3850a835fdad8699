"""Order and versions from the database, indexes for status, current session and expiry.

* ``sessions.seq``: creation order assigned by the database (an identity column on
  PostgreSQL; on SQLite the store assigns max + 1 under the write lock), replacing the
  creating process's wall clock as the order of sessions;
* ``session_mode_bindings.version``: the id of the history row that last wrote the binding,
  so another process can tell in one indexed read whether a binding it caches changed;
* indexes for ``current_session`` (project, status, seq), ``status`` (status, seq) and
  session expiry (status, updated_at).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("sessions", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
        # existing rows got identity values in no particular order: number them by age
        op.execute(
            "UPDATE sessions SET seq = ordered.n FROM (SELECT session_id, row_number() OVER "
            "(ORDER BY created_at, session_id) AS n FROM sessions) AS ordered "
            "WHERE sessions.session_id = ordered.session_id"
        )
        op.execute(
            "SELECT setval(pg_get_serial_sequence('sessions', 'seq'), "
            "coalesce((SELECT max(seq) FROM sessions), 0) + 1, false)"
        )
    else:
        op.add_column("sessions", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.execute(
            "UPDATE sessions SET seq = (SELECT count(*) FROM sessions AS older WHERE "
            "older.created_at < sessions.created_at OR (older.created_at = sessions.created_at"
            " AND older.session_id <= sessions.session_id))"
        )
    op.create_index("uq_sessions_seq", "sessions", ["seq"], unique=True)
    for name, columns in _INDEXES.items():
        op.create_index(name, "sessions", columns)
    op.add_column(
        "session_mode_bindings",
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE session_mode_bindings SET version = coalesce((SELECT max(h.id) FROM "
        "mode_usage_history AS h WHERE h.session_id = session_mode_bindings.session_id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("session_mode_bindings") as batch:
        batch.drop_column("version")
    for name in _INDEXES:
        op.drop_index(name, table_name="sessions")
    op.drop_index("uq_sessions_seq", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("seq")
