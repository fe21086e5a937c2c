"""A partner key's OneRoster write grant (issue 15): the institutions whose gradebook the key
may write through the OneRoster gradebook service (PUT/DELETE results, POST a lineItem's
results). Empty, the default: the key writes nothing.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_key",
        sa.Column(
            "oneroster_write_institution_ids",
            postgresql.ARRAY(sa.Integer()),
            server_default=sa.text("'{}'::integer[]"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("api_key", "oneroster_write_institution_ids")
