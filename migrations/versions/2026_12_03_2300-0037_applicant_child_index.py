"""Issue 21: a first-grade application found by its child (the applicants' row rule asks, per
person on an officer's page, whether an application the officer reads is for them; the only
child index was partial, on active applications).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_first_grade_application_child", "first_grade_application", ["child_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_first_grade_application_child", table_name="first_grade_application")
