"""Indexes the OneRoster endpoints read a class's results and a class by (issue 15).

A class's results are its current marks (through the partial index of current marks by year,
class and subject) and its superseded ones, which partners syncing changes read as
``tobedeleted``: those had no index but the primary key, so a class's results scanned the
year's whole partition of marks. Superseded marks are few (corrections), so their index is
small. A OneRoster class is named by its ``class_subject`` row's global ID (``sourcedId``).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_mark_superseded_class_subject",
        "mark",
        ["academic_year_id", "class_group_id", "subject_id"],
        postgresql_where=sa.text("superseded_at IS NOT NULL"),
    )
    op.create_index("ix_class_subject_gid", "class_subject", ["gid"])


def downgrade() -> None:
    op.drop_index("ix_class_subject_gid", table_name="class_subject")
    op.drop_index("ix_mark_superseded_class_subject", table_name="mark")
