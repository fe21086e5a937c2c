"""Entry ages (issue 14, items 5 and 6; domain.md F4, K1): an enrollment keeps the reference
of the commission's decision that let a child in outside the entry-age rule; a first-grade
season holds how many years older than a grade's age a pupil may be without one (policy, no
public source fixed it); a kindergarten application knows the day its child starts school,
so the queue offers no place the child would leave before it begins.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first school day of the year a child born in year B enters grade 1 (F4): the season's
# first day moved to year B + offset. The database computes it on every insert (the queue's
# workflow, the demo and the benchmarks' bulk loads alike), from the season's policy.
FUNCTION = """
CREATE FUNCTION kindergarten_application_starts_school() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT make_date(
               extract(year FROM p.birth_date)::int + s.grade1_birth_year_offset,
               extract(month FROM s.school_year_starts)::int,
               extract(day FROM s.school_year_starts)::int)
      INTO NEW.starts_school_on
      FROM person AS p, intake_season AS s
     WHERE p.id = NEW.child_id AND s.id = NEW.season_id;
    RETURN NEW;
END
$$
"""
TRIGGER = """
CREATE TRIGGER trg_kindergarten_application_starts_school
BEFORE INSERT OR UPDATE OF child_id, season_id ON kindergarten_application
FOR EACH ROW EXECUTE FUNCTION kindergarten_application_starts_school()
"""
# A policy edit of the season (the entry-age offset, the first school day) recomputes its
# applications' day: touching season_id fires the trigger above.
SEASON_FUNCTION = """
CREATE FUNCTION intake_season_recompute_school_start() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kindergarten_application SET season_id = season_id WHERE season_id = NEW.id;
    RETURN NULL;
END
$$
"""
SEASON_TRIGGER = """
CREATE TRIGGER trg_intake_season_recompute_school_start
AFTER UPDATE OF grade1_birth_year_offset, school_year_starts ON intake_season
FOR EACH ROW EXECUTE FUNCTION intake_season_recompute_school_start()
"""
BACKFILL = """
UPDATE kindergarten_application AS a
SET starts_school_on = make_date(
        extract(year FROM p.birth_date)::int + s.grade1_birth_year_offset,
        extract(month FROM s.school_year_starts)::int,
        extract(day FROM s.school_year_starts)::int)
FROM person AS p, intake_season AS s
WHERE p.id = a.child_id AND s.id = a.season_id
"""


def upgrade() -> None:
    op.add_column("enrollment", sa.Column("age_decision", sa.String(length=120), nullable=True))
    op.add_column(
        "intake_season",
        sa.Column(
            "grade_age_tolerance_years",
            sa.SmallInteger(),
            server_default=sa.text("2"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_intake_season_grade_age_tolerance"),
        "intake_season",
        "grade_age_tolerance_years BETWEEN 0 AND 6",
    )
    op.add_column(
        "kindergarten_application", sa.Column("starts_school_on", sa.Date(), nullable=True)
    )
    op.execute(BACKFILL)
    op.alter_column("kindergarten_application", "starts_school_on", nullable=False)
    op.execute(FUNCTION)
    op.execute(TRIGGER)
    op.execute(SEASON_FUNCTION)
    op.execute(SEASON_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_intake_season_recompute_school_start ON intake_season")
    op.execute("DROP FUNCTION intake_season_recompute_school_start()")
    op.execute(
        "DROP TRIGGER trg_kindergarten_application_starts_school ON kindergarten_application"
    )
    op.execute("DROP FUNCTION kindergarten_application_starts_school()")
    op.drop_column("kindergarten_application", "starts_school_on")
    op.drop_constraint(op.f("ck_intake_season_grade_age_tolerance"), "intake_season", type_="check")
    op.drop_column("intake_season", "grade_age_tolerance_years")
    op.drop_column("enrollment", "age_decision")
