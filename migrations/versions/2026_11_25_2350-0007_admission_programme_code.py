"""Admission programmes linked to the programme classifier, so that admission is refused to a
programme that needs accreditation and holds none (issue 5, "Enforced across systems").

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-25 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "admission_programme",
        sa.Column("programme_code", sa.String(length=20), nullable=True),
    )
    op.create_index(
        op.f("ix_admission_programme_programme_code"),
        "admission_programme",
        ["programme_code"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_admission_programme_programme_code_programme_code"),
        "admission_programme",
        "programme_code",
        ["programme_code"],
        ["code"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_admission_programme_programme_code_programme_code"),
        "admission_programme",
        type_="foreignkey",
    )
    op.drop_index(
        op.f("ix_admission_programme_programme_code"), table_name="admission_programme"
    )
    op.drop_column("admission_programme", "programme_code")
