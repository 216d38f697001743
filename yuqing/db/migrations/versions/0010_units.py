"""Federation units: incidents and users belong to a unit of the four-level hierarchy.

``incidents.unit_id``: the unit that owns the incident (routing by region, or a person's move);
``incidents.unit_manual``: true once a person moved it by hand (routing no longer changes it);
``users.unit_id``: the unit a user belongs to (NULL = the root: sees everything);
``notifications.unit_id``: the unit a notification went to (an owner's copy or a 上报 copy).
Unit ids are those of ``units:`` in the settings (no table: the tree lives in the configuration).

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("unit_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("unit_manual", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_incidents_unit_id", ["unit_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit_id", sa.String(64), nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("unit_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("unit_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit_id")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_unit_id")
        batch.drop_column("unit_manual")
        batch.drop_column("unit_id")
