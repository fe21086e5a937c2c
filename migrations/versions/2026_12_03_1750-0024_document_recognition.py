"""Foreign applicants' documents (issue 14.9; domain.md U6): an officer's decision on an
applicant's foreign education document in an admission season (recognised by equivalence,
with a test exemption or a substitute test, or refused), which changes their eligibility.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "admission_document_recognition"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("season_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=60), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column(
            "route",
            sa.Enum(
                "equivalence",
                "test_exemption",
                "substitute_test",
                name="recognitionroute",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "recognised",
                "refused",
                name="recognitionstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f(f"fk_{TABLE}_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["season_id"],
            ["admission_season.id"],
            name=op.f(f"fk_{TABLE}_season_id_admission_season"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("season_id", "person_id", name="uq_admission_document_recognition"),
    )
    op.create_index(op.f(f"ix_{TABLE}_person_id"), TABLE, ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_person_id"), table_name=TABLE)
    op.drop_table(TABLE)
