"""Where an incident is: the region its posts agree on (行政区划代码, name, level, confidence).

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
