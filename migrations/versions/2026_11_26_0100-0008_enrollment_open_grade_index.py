"""Open enrollments by institution and grade, with the pupil: the registry's lists of a grade
in a region or a school (`persons(filter: {regionId, gradeLevel})`) find their pupils from
this index alone, then read only those people.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_enrollment_open_institution_grade",
        "enrollment",
        ["institution_id", "grade_level", "person_id"],
        unique=False,
        postgresql_where=sa.text("exit_date IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_enrollment_open_institution_grade",
        table_name="enrollment",
        postgresql_where=sa.text("exit_date IS NULL"),
    )
