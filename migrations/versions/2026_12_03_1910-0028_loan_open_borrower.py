"""A borrower's open loans at a library, counted from an index alone at every checkout
(the loan limit, issue 17's checkout target).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_loan_open_borrower",
        "loan",
        ["person_id", "institution_id"],
        unique=False,
        postgresql_where=sa.text("returned_at IS NULL AND NOT textbook_issue"),
    )


def downgrade() -> None:
    op.drop_index("ix_loan_open_borrower", table_name="loan")
