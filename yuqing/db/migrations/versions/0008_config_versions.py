"""Configuration edited in the web: versioned documents (who, when, diff), the latest one in force.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
