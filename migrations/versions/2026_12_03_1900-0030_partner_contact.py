"""Partners are told when their webhook endpoint is disabled (issue 18): an endpoint may carry
a contact e-mail, and a notice may be for a partner rather than a person.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_endpoint", sa.Column("contact_email", sa.String(200), nullable=True))
    op.alter_column("notice", "person_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notice WHERE person_id IS NULL")
    op.alter_column("notice", "person_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_column("webhook_endpoint", "contact_email")
