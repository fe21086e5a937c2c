"""EMIS statistics (issue 19): the disclosure control rule as a policy row the ministry sets
(threshold, secondary suppression, the source it follows), not a constant in code.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule the hub shipped with (docs/domains/analytics.md).
SOURCE = (
    "Threshold rule with secondary cell suppression for frequency tables: Hundepool et al., "
    "Statistical Disclosure Control, Wiley 2012, sections 4.2 and 5.2; Eurostat, Handbook on "
    "Statistical Disclosure Control for Outputs (minimum frequency 5 for counts of persons)."
)


def upgrade() -> None:
    table = op.create_table(
        "disclosure_policy",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("secondary_suppression", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name="ck_disclosure_policy_single_row"),
        sa.CheckConstraint("threshold BETWEEN 2 AND 100", name="ck_disclosure_policy_threshold"),
        sa.CheckConstraint(
            "length(source) BETWEEN 10 AND 1000", name="ck_disclosure_policy_source"
        ),
    )
    op.bulk_insert(
        table, [{"id": 1, "threshold": 5, "secondary_suppression": True, "source": SOURCE}]
    )


def downgrade() -> None:
    op.drop_table("disclosure_policy")
