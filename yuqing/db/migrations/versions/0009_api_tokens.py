"""Personal API tokens for integrators: stored hashed, revocable, carrying their user's role.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
