"""Schema changes of the alerting area (reserved slot; empty until that area needs one).

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
