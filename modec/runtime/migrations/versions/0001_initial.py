"""Initial session schema: sessions, bindings by mode hash, usage history, artifacts.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Every name goes through the store's prefix and schema (``migration_tables``); with the
default (no prefix, no schema) the DDL is what this revision has always run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from modec.runtime.migrations.naming import migration_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    names = migration_tables()
    n, schema = names.name, names.schema
    sessions = n("sessions")
    parent = f"{sessions}.session_id" if schema is None else f"{schema}.{sessions}.session_id"
    op.create_table(
        sessions,
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("project_root", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("terminated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name=n("pk_sessions")),
        sa.CheckConstraint("status IN ('active', 'terminated')", name=n("ck_sessions_status")),
        schema=schema,
    )
    op.create_index(n("ix_sessions_status"), sessions, ["status"], schema=schema)

    op.create_table(
        n("session_mode_bindings"),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("mode_file", sa.Text(), nullable=False),
        sa.Column("bound_at", _utc(), nullable=False),
        sa.Column("validation_status", sa.String(16), nullable=False),
        sa.Column("mode_hash", sa.String(128), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=n("pk_session_mode_bindings")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            [parent],
            name=n("fk_session_mode_bindings_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "validation_status IN ('valid', 'degraded', 'fallback')",
            name=n("ck_session_mode_bindings_validation_status"),
        ),
        schema=schema,
    )

    op.create_table(
        n("mode_usage_history"),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("mode_file", sa.Text(), nullable=True),
        sa.Column("mode_hash", sa.String(128), nullable=True),
        sa.Column("action_type", sa.String(16), nullable=False),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=n("pk_mode_usage_history")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            [parent],
            name=n("fk_mode_usage_history_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "action_type IN ('bind', 'switch', 'validate', 'unbind', 'resume', 'fallback',"
            " 'terminate')",
            name=n("ck_mode_usage_history_action_type"),
        ),
        schema=schema,
    )
    op.create_index(
        n("ix_mode_usage_history_session_id_id"),
        n("mode_usage_history"),
        ["session_id", "id"],
        schema=schema,
    )

    op.create_table(
        n("compiled_artifacts"),
        sa.Column("mode_hash", sa.String(128), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("mode_hash", name=n("pk_compiled_artifacts")),
        schema=schema,
    )


def downgrade() -> None:
    names = migration_tables()
    n, schema = names.name, names.schema
    op.drop_table(n("compiled_artifacts"), schema=schema)
    op.drop_index(
        n("ix_mode_usage_history_session_id_id"), table_name=n("mode_usage_history"), schema=schema
    )
    op.drop_table(n("mode_usage_history"), schema=schema)
    op.drop_table(n("session_mode_bindings"), schema=schema)
    op.drop_index(n("ix_sessions_status"), table_name=n("sessions"), schema=schema)
    op.drop_table(n("sessions"), schema=schema)
