"""Issue 16: which half of their class a pupil learns a subject in, so the feed places a
pupil by their own half's lessons; and the index from which the feed reads which subjects a
standard has lessons of.

The LMS already splits a class into halves per subject in the timetable (a slot's and a
lesson's ``subgroup``: 0 the whole class, 1 or 2 a half), but a pupil's membership did not say
which half they are in. ``class_membership_half`` records it per membership and subject; its
foreign keys hold that the half is of the pupil's own class (the membership with its class, a
new unique key on ``class_membership``) and of a subject that class learns (``class_subject``).

The feed's index on a class's lessons naming a curriculum topic carries the lesson's subgroup,
so the latest lesson of the whole class or of the pupil's half is still found in the index
alone. ``class_lesson`` is partitioned: the index is rebuilt on the parent and every year's
partition (a partial index, of held lessons naming a topic).

The feed offers a pupil the lessons of their class's curriculum model (S1), and the other
standard's in a subject the model has none of in the pupil's grade and language: which
subjects those are is read from ``ix_lesson_published_standard`` (grade, language, standard,
subject) alone.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIT_INDEX = "ix_class_lesson_class_subject_unit"
UNIT_COLUMNS = [
    "academic_year_id",
    "class_group_id",
    "subject_id",
    "on_date",
    "starts_minute",
    "curriculum_unit_id",
]
HELD_NAMING_A_UNIT = sa.text("curriculum_unit_id IS NOT NULL AND status = 'held'")


def upgrade() -> None:
    op.create_unique_constraint(
        "uq_class_membership_of_class", "class_membership", ["id", "class_group_id"]
    )
    op.create_table(
        "class_membership_half",
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("class_group_id", sa.Integer(), nullable=False),
        sa.Column("subgroup", sa.SmallInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("subgroup IN (1, 2)", name=op.f("ck_class_membership_half_subgroup")),
        sa.ForeignKeyConstraint(
            ["membership_id", "class_group_id"],
            ["class_membership.id", "class_membership.class_group_id"],
            name="fk_class_membership_half_membership_of_class",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["class_group_id", "subject_id"],
            ["class_subject.class_group_id", "class_subject.subject_id"],
            name="fk_class_membership_half_subject_of_class",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "membership_id", "subject_id", name=op.f("pk_class_membership_half")
        ),
    )
    op.create_index(
        "ix_class_membership_half_class",
        "class_membership_half",
        ["class_group_id", "subject_id", "subgroup"],
    )
    op.drop_index(UNIT_INDEX, table_name="class_lesson")
    op.create_index(
        UNIT_INDEX,
        "class_lesson",
        [*UNIT_COLUMNS, "subgroup"],
        postgresql_where=HELD_NAMING_A_UNIT,
    )
    op.create_index(
        "ix_lesson_published_standard",
        "lesson",
        ["grade", "language", "standard", "subject_code"],
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("ix_lesson_published_standard", table_name="lesson")
    op.drop_index(UNIT_INDEX, table_name="class_lesson")
    op.create_index(UNIT_INDEX, "class_lesson", UNIT_COLUMNS, postgresql_where=HELD_NAMING_A_UNIT)
    op.drop_index("ix_class_membership_half_class", table_name="class_membership_half")
    op.drop_table("class_membership_half")
    op.drop_constraint("uq_class_membership_of_class", "class_membership", type_="unique")
