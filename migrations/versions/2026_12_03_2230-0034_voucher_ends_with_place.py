"""Kindergarten vouchers (issue 14.7's leftovers; domain.md K8, F4): a voucher ends with the
place it pays for, and pays no place a child would leave for school before it begins.

* Whatever ends a kindergarten enrollment (``withdrawStudent``, ``transferStudent``, a queue
  admission elsewhere, a statement outside the hub) ends the voucher in use on it, in the same
  statement's transaction: a row trigger on ``enrollment`` sets the voucher ``ended`` (reason
  ``left``, its last day the place's exit date, the exit reason in its note) and writes the
  ``preschool.voucher_ended`` event to the outbox, as the workflow's own end does. Leaving for
  school ends the voucher first, with the reason ``school`` (``resolvers/preschool/school.py``),
  so the trigger finds nothing left to end there.
* A voucher is in use only on an open enrollment (``ck_kindergarten_voucher_open_place``) and
  only from a day before its child starts school (``ck_kindergarten_voucher_school_entry``):
  the first school day of the year a child born in year B enters grade 1 is the season's first
  school day moved to year B + ``grade1_birth_year_offset``, the queue's own rule (migration
  0023). Both raise with a constraint name the hub maps to a typed error.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENDS_WITH_PLACE = r"""
CREATE FUNCTION kindergarten_voucher_ends_with_place() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH ended AS (
        UPDATE kindergarten_voucher
           SET status = 'ended', end_reason = 'left', ended_on = NEW.exit_date,
               end_note = 'the place ended: ' || coalesce(NEW.exit_reason, 'no reason given'),
               updated_at = now()
         WHERE enrollment_id = NEW.id AND status = 'in_use'
     RETURNING id
    )
    INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload)
    SELECT 'preschool.voucher_ended', 'KindergartenVoucher', id,
           jsonb_build_object('status', 'ended', 'reason', 'left')
      FROM ended;
    RETURN NULL;
END
$$
"""
ENDS_WITH_PLACE_TRIGGER = """
CREATE TRIGGER trg_enrollment_ends_voucher
AFTER UPDATE OF exit_date ON enrollment
FOR EACH ROW
WHEN (NEW.sector = 'preschool' AND OLD.exit_date IS NULL AND NEW.exit_date IS NOT NULL)
EXECUTE FUNCTION kindergarten_voucher_ends_with_place()
"""

PLACE_CHECK = r"""
CREATE FUNCTION kindergarten_voucher_place_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    starts_school date;
BEGIN
    PERFORM 1 FROM enrollment AS e
     WHERE e.id = NEW.enrollment_id AND e.exit_date IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a voucher in use pays for an open kindergarten place'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_kindergarten_voucher_open_place';
    END IF;
    IF OLD.status IS DISTINCT FROM 'in_use' THEN
        SELECT make_date(
                   extract(year FROM p.birth_date)::int + s.grade1_birth_year_offset,
                   extract(month FROM s.school_year_starts)::int,
                   extract(day FROM s.school_year_starts)::int)
          INTO starts_school
          FROM person AS p, intake_season AS s
         WHERE p.id = NEW.child_id AND s.id = NEW.season_id;
        IF starts_school <= NEW.used_on THEN
            RAISE EXCEPTION 'the child starts school on %, by the day the place begins (%)',
                            starts_school, NEW.used_on
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_kindergarten_voucher_school_entry';
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""
PLACE_CHECK_TRIGGER = """
CREATE TRIGGER trg_kindergarten_voucher_place_check
BEFORE UPDATE ON kindergarten_voucher
FOR EACH ROW WHEN (NEW.status = 'in_use')
EXECUTE FUNCTION kindergarten_voucher_place_check()
"""


def upgrade() -> None:
    # One statement per execute: asyncpg prepares each as a single statement.
    op.execute(ENDS_WITH_PLACE)
    op.execute(ENDS_WITH_PLACE_TRIGGER)
    op.execute(PLACE_CHECK)
    op.execute(PLACE_CHECK_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_kindergarten_voucher_place_check ON kindergarten_voucher")
    op.execute("DROP FUNCTION kindergarten_voucher_place_check()")
    op.execute("DROP TRIGGER trg_enrollment_ends_voucher ON enrollment")
    op.execute("DROP FUNCTION kindergarten_voucher_ends_with_place()")
