"""Sessions that can be revoked: a per-user session generation on users.

Every signed session cookie carries the generation it was issued under; logout, a password
change and disabling the account increase it, so every older cookie of that user stops working
at once (web/deps.py compares them on each request).

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_gen", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_gen")
