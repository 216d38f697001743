"""Where an incident is: the region its posts agree on (行政区划代码, name, level, confidence).

``region_code`` is the 12-digit statistics-bureau code (as the cpca gazetteer gives it) of a
province, city or county, or ``<county code>/<town>[/<village>]`` for the towns and villages the
gazetteer lacks (see yuqing/places.py); all four columns are NULL when no post names a place.
Existing incidents get their region the next time a post joins them or they are merged.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("region_code", sa.String(96), nullable=True))
        batch.add_column(sa.Column("region_name", sa.String(128), nullable=True))
        batch.add_column(sa.Column("region_level", sa.String(16), nullable=True))
        batch.add_column(sa.Column("region_confidence", sa.Float(), nullable=True))
        batch.create_index("ix_incidents_region_code", ["region_code"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_region_code")
        batch.drop_column("region_confidence")
        batch.drop_column("region_level")
        batch.drop_column("region_name")
        batch.drop_column("region_code")
