"""A child is never at school and in kindergarten over the same days (domain.md K7; issue 12,
findings 1 and 2): an exclusion constraint on enrollment forbids a person's preschool and
school enrollments to overlap. Kindergarten enrollments that overlap a school enrollment
already are first ended the day the school one began (as admission to first grade ends them
now), so the constraint can be built.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ex_enrollment_preschool_school_overlap"
PERIOD = "daterange(entry_date, exit_date, '[)')"

# Each overlapping kindergarten enrollment ends when the first school enrollment it overlaps
# begins (or as it begins, if it began later: an empty period).
END_OVERLAPS = """
UPDATE enrollment AS p
SET exit_date = GREATEST(p.entry_date, s.first_school_day),
    exit_reason = COALESCE(p.exit_reason, 'completed_level'),
    updated_at = now()
FROM (
    SELECT k.id, min(e.entry_date) AS first_school_day
    FROM enrollment AS k
    JOIN enrollment AS e
      ON e.person_id = k.person_id
     AND e.sector = 'school'
     AND daterange(e.entry_date, e.exit_date, '[)') && daterange(k.entry_date, k.exit_date, '[)')
    WHERE k.sector = 'preschool'
    GROUP BY k.id
) AS s
WHERE p.id = s.id
"""


def upgrade() -> None:
    op.execute(END_OVERLAPS)
    op.execute(
        f"ALTER TABLE enrollment ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f"(person_id WITH =, {PERIOD} WITH &&, sector WITH <>) "
        "WHERE (sector IN ('preschool', 'school'))"
    )


def downgrade() -> None:
    # The kindergarten enrollments ended on the way up stay ended: they overlapped a school one.
    op.drop_constraint(NAME, "enrollment", type_="exclude")
