"""A school's profile (issue 14.3; domain.md S1, F5, F6): type, grades taught, shifts and the
flag for schools outside e-enrollment; and a grant pool per school over its district's
(issue 14.8; U4). Existing schools get no type and no grades: their default quotas stay as
before (the season's ``grades_per_school``) until the registry records them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here (not imported from models) so the migration stays as it was run.
SCHOOL_TYPES = (
    "primary_1_4", "primary_1_6", "basic", "complete_11", "complete_12",
    "gymnasium", "lyceum", "boarding", "special_needs",
)  # fmt: skip
POOLS = ("bishkek", "regional_town", "rural", "high_altitude")


def upgrade() -> None:
    op.add_column(
        "institution",
        sa.Column(
            "school_type",
            sa.Enum(
                *SCHOOL_TYPES,
                name="schooltype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
    )
    op.add_column("institution", sa.Column("grade_from", sa.SmallInteger(), nullable=True))
    op.add_column("institution", sa.Column("grade_to", sa.SmallInteger(), nullable=True))
    op.add_column(
        "institution",
        sa.Column("shifts", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
    )
    op.add_column(
        "institution",
        sa.Column(
            "outside_e_enrollment", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_check_constraint(
        "school_profile",
        "institution",
        "kind = 'school' OR (school_type IS NULL AND grade_from IS NULL"
        " AND grade_to IS NULL AND NOT outside_e_enrollment)",
    )
    op.create_check_constraint(
        "grades",
        "institution",
        "(grade_from IS NULL) = (grade_to IS NULL)"
        " AND (grade_from IS NULL OR 1 <= grade_from AND grade_from <= grade_to"
        " AND grade_to <= 12)",
    )
    op.create_check_constraint("shifts", "institution", "shifts BETWEEN 1 AND 3")
    op.create_table(
        "admission_school_pool",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column(
            "pool",
            sa.Enum(
                *POOLS, name="admissionpool", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["institution.id"],
            name=op.f("fk_admission_school_pool_school_id_institution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_admission_school_pool")),
    )


def downgrade() -> None:
    op.drop_table("admission_school_pool")
    for name in ("shifts", "grades", "school_profile", "schooltype"):
        op.drop_constraint(op.f(f"ck_institution_{name}"), "institution", type_="check")
    for column in ("outside_e_enrollment", "shifts", "grade_to", "grade_from", "school_type"):
        op.drop_column("institution", column)
