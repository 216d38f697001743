"""Configuration edited in the web: versioned documents (who, when, diff), the latest one in force.

Each row of ``config_versions`` is one complete document of the editable sections overridden in
the database (keyword schemes, sources, roster, channels…) as of that change; the effective
settings are the YAML seed with the latest row's sections laid over it. A rollback is a new row
equal to an older one, so nothing is ever rewritten.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False, server_default=""),
        sa.Column("rollback_of", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("config_versions")
