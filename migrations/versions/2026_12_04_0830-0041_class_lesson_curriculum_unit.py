"""Issue 16: a lesson a teacher records may name the curriculum topic it taught
(``class_lesson.curriculum_unit_id``, learning content's ``curriculum_unit``), so a pupil's
feed follows the unit their class is on; and the index that finds, per class and subject, the
latest held lesson naming one.

``class_lesson`` is partitioned by academic year: the column, its foreign key and the partial
index are declared on the parent and reach every year's partition (and the partitions of years
created later).

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("class_lesson", sa.Column("curriculum_unit_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_class_lesson_curriculum_unit_id_curriculum_unit",
        "class_lesson",
        "curriculum_unit",
        ["curriculum_unit_id"],
        ["id"],
    )
    op.create_index(
        "ix_class_lesson_class_subject_unit",
        "class_lesson",
        [
            "academic_year_id",
            "class_group_id",
            "subject_id",
            "on_date",
            "starts_minute",
            "curriculum_unit_id",
        ],
        postgresql_where=sa.text("curriculum_unit_id IS NOT NULL AND status = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_class_lesson_class_subject_unit", table_name="class_lesson")
    op.drop_constraint(
        "fk_class_lesson_curriculum_unit_id_curriculum_unit", "class_lesson", type_="foreignkey"
    )
    op.drop_column("class_lesson", "curriculum_unit_id")
