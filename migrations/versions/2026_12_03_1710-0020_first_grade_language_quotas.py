"""First-grade quotas per (season, school, entry grade, language of instruction) (issue 14.4;
domain.md F1, F5): each stream of a school is its own pool. Quotas made before are the Kyrgyz
stream's (the default language of clients that name none); a school whose only language is
another has its quotas moved to that language.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "first_grade_quota",
        sa.Column("language", sa.String(length=32), server_default=sa.text("'ky'"), nullable=False),
    )
    op.create_check_constraint(
        "language", "first_grade_quota", "language IN ('ky', 'ru', 'uz', 'tg', 'en')"
    )
    op.execute(
        """
        UPDATE first_grade_quota q SET language = i.languages[1]
        FROM institution i
        WHERE i.id = q.school_id AND cardinality(i.languages) = 1 AND i.languages[1] <> 'ky'
        """
    )
    op.drop_constraint("uq_first_grade_quota_grade", "first_grade_quota", type_="unique")
    op.create_unique_constraint(
        "uq_first_grade_quota_language",
        "first_grade_quota",
        ["season_id", "school_id", "grade_level", "language"],
    )


def downgrade() -> None:
    op.drop_constraint("uq_first_grade_quota_language", "first_grade_quota", type_="unique")
    op.execute(
        """
        DELETE FROM first_grade_quota q USING first_grade_quota k
        WHERE q.season_id = k.season_id AND q.school_id = k.school_id
          AND q.grade_level = k.grade_level AND q.id > k.id
        """
    )
    op.create_unique_constraint(
        "uq_first_grade_quota_grade", "first_grade_quota", ["season_id", "school_id", "grade_level"]
    )
    op.drop_constraint(op.f("ck_first_grade_quota_language"), "first_grade_quota", type_="check")
    op.drop_column("first_grade_quota", "language")
