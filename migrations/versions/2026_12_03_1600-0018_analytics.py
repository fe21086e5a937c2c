"""EMIS statistics (issue 19): the census rollup cells, the record of their refreshes, and
the population by district and age that coverage and enrollment ratios divide by.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stat_cell",
        sa.Column("census_date", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(24), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("settlement", sa.String(8), nullable=True),
        sa.Column("institution_kind", sa.String(32), nullable=True),
        sa.Column("ownership", sa.String(32), nullable=True),
        sa.Column("level", sa.String(12), nullable=True),
        sa.Column("grade", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("age", sa.SmallInteger(), nullable=True),
        sa.Column("language", sa.String(2), nullable=True),
        sa.Column("age_group", sa.String(16), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_stat_cell_date_measure", "stat_cell", ["census_date", "measure"])
    op.create_table(
        "stat_refresh",
        sa.Column("census_date", sa.Date(), primary_key=True),
        sa.Column(
            "refreshed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_table(
        "population",
        sa.Column("year", sa.SmallInteger(), primary_key=True),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("district.id"), primary_key=True),
        sa.Column("age", sa.SmallInteger(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("age BETWEEN 0 AND 120", name="ck_population_age"),
        sa.CheckConstraint("count >= 0", name="ck_population_count"),
        sa.CheckConstraint("year BETWEEN 1990 AND 2100", name="ck_population_year"),
    )


def downgrade() -> None:
    op.drop_table("population")
    op.drop_table("stat_refresh")
    op.drop_index("ix_stat_cell_date_measure", table_name="stat_cell")
    op.drop_table("stat_cell")
