"""Initial session schema: sessions, bindings by mode hash, usage history, artifacts.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("project_root", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("terminated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_sessions"),
        sa.CheckConstraint("status IN ('active', 'terminated')", name="ck_sessions_status"),
    )
    op.create_index("ix_sessions_status", "sessions", ["status"])

    op.create_table(
        "session_mode_bindings",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("mode_file", sa.Text(), nullable=False),
        sa.Column("bound_at", _utc(), nullable=False),
        sa.Column("validation_status", sa.String(16), nullable=False),
        sa.Column("mode_hash", sa.String(128), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_mode_bindings"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.session_id"],
            name="fk_session_mode_bindings_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "validation_status IN ('valid', 'degraded', 'fallback')",
            name="ck_session_mode_bindings_validation_status",
        ),
    )

    op.create_table(
        "mode_usage_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("mode_file", sa.Text(), nullable=True),
        sa.Column("mode_hash", sa.String(128), nullable=True),
        sa.Column("action_type", sa.String(16), nullable=False),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mode_usage_history"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.session_id"],
            name="fk_mode_usage_history_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "action_type IN ('bind', 'switch', 'validate', 'unbind', 'resume', 'fallback',"
            " 'terminate')",
            name="ck_mode_usage_history_action_type",
        ),
    )
    op.create_index(
        "ix_mode_usage_history_session_id_id", "mode_usage_history", ["session_id", "id"]
    )

    op.create_table(
        "compiled_artifacts",
        sa.Column("mode_hash", sa.String(128), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("mode_hash", name="pk_compiled_artifacts"),
    )


def downgrade() -> None:
    op.drop_table("compiled_artifacts")
    op.drop_index("ix_mode_usage_history_session_id_id", table_name="mode_usage_history")
    op.drop_table("mode_usage_history")
    op.drop_table("session_mode_bindings")
    op.drop_index("ix_sessions_status", table_name="sessions")
    op.drop_table("sessions")
