"""The working-day calendar from the ``holidays`` package, the ministry's rows overriding it
(issue 14.2): ``public_holiday.working`` marks a decreed working day (a weekend day worked in
exchange, a statutory date the decree moved). The rows 0003 seeded stay: they are the decreed
days of 2026-2027 and still decide over the computed calendar.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "public_holiday",
        sa.Column("working", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM public_holiday WHERE working")
    op.drop_column("public_holiday", "working")
