"""A class membership ends with its enrollment, and a class counts its pupils, once per
statement (issue 15's year-end promotion).

Migration 0026 held both with row triggers: every enrollment a statement ended ran its own
``UPDATE class_membership``, and every membership row its own ``UPDATE class_group``. A
school's year-end closure ends ~100 enrollments in one statement, so it ran ~100 membership
updates, each firing ``class_membership``'s statement triggers (the kept OneRoster rows and
the guardians' rows, migrations 0038-0039) for one pupil: most of a school's closure.

Now both are statement triggers with transition tables:

* ``enrollment_ends_class_membership``: after an ``UPDATE`` of enrollments, one
  ``UPDATE class_membership`` ends the open memberships of every enrollment the statement
  ended (its exit date set where it was unset), on the exit date or, for a membership that
  began later, on its first day (as before). A statement that ended none touches no
  membership (and so fires none of their triggers).
* ``class_membership_count_{insert,update,delete}``: the change of open memberships per
  class (an open row inserted +1; deleted or ended -1; moved -1/+1) summed over the
  statement, then the classes concerned locked in id order and updated once each. The CHECK
  ``ck_class_group_size`` (``pupil_count <= capacity``) is what refuses an over-full class,
  as before; the count is applied under the class row's lock, so two transactions filling one
  class wait for each other and the second sees the first's count (F5). The id order means
  two statements filling the same classes in different orders wait, never deadlock. Named to
  fire before the OneRoster triggers (triggers fire in name order): an over-full class is
  refused before the kept rows are built.

And the kept OneRoster rows (migrations 0038-0039) skip what an update cannot change: a
pupil's user row and their guardians' rows read their memberships' pupil, school, grade, first
day and id, never the end or the change time, so an ``UPDATE class_membership`` that changed
none of those (ending memberships, as every year-end closure does) rebuilds the memberships'
enrollment rows but refreshes no user or guardian row.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0045"
down_revision: str | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENDED = """
CREATE FUNCTION lms_enrollments_ended() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    ends date[];
BEGIN
    SELECT array_agg(m.id ORDER BY m.id), array_agg(greatest(n.exit_date, m.since) ORDER BY m.id)
      INTO ids, ends
      FROM ended_new n
      JOIN ended_old o ON o.id = n.id
      JOIN class_membership m ON m.enrollment_id = n.id AND m.until IS NULL
     WHERE n.exit_date IS NOT NULL AND o.exit_date IS NULL;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE class_membership m SET until = e.until, updated_at = now()
      FROM unnest(ids, ends) AS e(id, until)
     WHERE m.id = e.id AND m.until IS NULL;
    RETURN NULL;
END $$
"""

# Open memberships per class: +1 for an open row in the new rows, -1 for one in the old.
_OPEN = "SELECT class_group_id, {sign}1 AS n FROM {table} WHERE until IS NULL"
_COUNT = """
    SELECT array_agg(class_group_id ORDER BY class_group_id), array_agg(n ORDER BY class_group_id)
      INTO classes, deltas
      FROM (SELECT class_group_id, sum(n)::integer AS n FROM ({rows}) r
            GROUP BY class_group_id HAVING sum(n) <> 0) d;
"""
_PLUS = _OPEN.format(sign="", table="size_new")
_MINUS = _OPEN.format(sign="-", table="size_old")
COUNT = f"""
CREATE FUNCTION lms_class_sizes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    classes integer[];
    deltas integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_COUNT.format(rows=_PLUS)}
    ELSIF TG_OP = 'DELETE' THEN
        {_COUNT.format(rows=_MINUS)}
    ELSE
        {_COUNT.format(rows=_PLUS + " UNION ALL " + _MINUS)}
    END IF;
    IF classes IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM class_group WHERE id = ANY(classes) ORDER BY id FOR NO KEY UPDATE;
    UPDATE class_group c SET pupil_count = c.pupil_count + d.n
      FROM unnest(classes, deltas) AS d(id, n)
     WHERE c.id = d.id;
    RETURN NULL;
END $$
"""

ENROLLMENT_COLUMNS = (
    'sourced_id, status, modified, user_id, class_id, school_id, role, "primary", begin_date,'
    " end_date, region_id, institution_id, membership_id, assignment_id, class_subject_id"
)

# The pupils whose memberships changed in what their user and guardian rows read: the rows
# (by those columns) in one transition table and not the other.
_MOVED = """
        SELECT array_agg(DISTINCT pupil_id) INTO {into} FROM (
            (SELECT id, pupil_id, institution_id, grade, since FROM changed
             EXCEPT SELECT id, pupil_id, institution_id, grade, since FROM gone)
            UNION ALL
            (SELECT id, pupil_id, institution_id, grade, since FROM gone
             EXCEPT SELECT id, pupil_id, institution_id, grade, since FROM changed)) p;"""
_PEOPLE_BEFORE = """
        SELECT array_agg(DISTINCT pupil_id) INTO {into}
        FROM (SELECT pupil_id FROM changed UNION ALL SELECT pupil_id FROM gone) p;"""

MEMBERSHIP = """
CREATE OR REPLACE FUNCTION oneroster_membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id), array_agg(DISTINCT pupil_id) INTO ids, people FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(id), array_agg(DISTINCT pupil_id) INTO ids, people FROM gone;
    ELSE
        SELECT array_agg(id) INTO ids FROM changed;{people}
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM oneroster_enrollment WHERE membership_id = ANY(ids);
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO oneroster_enrollment ({columns})
        SELECT {columns} FROM oneroster_pupil_enrollment_source
        WHERE membership_id = ANY(ids);
    END IF;{refresh}
    RETURN NULL;
END $$"""
_REFRESH = """
    IF people IS NOT NULL THEN
        PERFORM oneroster_refresh_users('student', people);
    END IF;"""
_REFRESH_BEFORE = """
    PERFORM oneroster_refresh_users('student', people);"""

GUARDIANS = """
CREATE OR REPLACE FUNCTION oneroster_membership_guardians() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    children integer[];
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT pupil_id) INTO children FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT pupil_id) INTO children FROM gone;
    ELSE{children}
    END IF;
    IF children IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT guardian_id) INTO people
    FROM guardianship WHERE child_id = ANY(children);
    PERFORM oneroster_refresh_guardians(people);
    RETURN NULL;
END $$"""

KEPT = [
    MEMBERSHIP.format(
        people=_MOVED.format(into="people"), columns=ENROLLMENT_COLUMNS, refresh=_REFRESH
    ),
    GUARDIANS.format(children=_MOVED.format(into="children")),
]
KEPT_BEFORE = [
    MEMBERSHIP.format(
        people=_PEOPLE_BEFORE.format(into="people"),
        columns=ENROLLMENT_COLUMNS,
        refresh=_REFRESH_BEFORE,
    ),
    GUARDIANS.format(children=_PEOPLE_BEFORE.format(into="children")),
]

TRIGGERS = [
    "CREATE TRIGGER enrollment_ends_class_membership AFTER UPDATE ON enrollment"
    " REFERENCING OLD TABLE AS ended_old NEW TABLE AS ended_new"
    " FOR EACH STATEMENT EXECUTE FUNCTION lms_enrollments_ended()",
    "CREATE TRIGGER class_membership_count_insert AFTER INSERT ON class_membership"
    " REFERENCING NEW TABLE AS size_new FOR EACH STATEMENT EXECUTE FUNCTION lms_class_sizes()",
    "CREATE TRIGGER class_membership_count_update AFTER UPDATE ON class_membership"
    " REFERENCING OLD TABLE AS size_old NEW TABLE AS size_new"
    " FOR EACH STATEMENT EXECUTE FUNCTION lms_class_sizes()",
    "CREATE TRIGGER class_membership_count_delete AFTER DELETE ON class_membership"
    " REFERENCING OLD TABLE AS size_old FOR EACH STATEMENT EXECUTE FUNCTION lms_class_sizes()",
]

# Migration 0026's row triggers, for the downgrade.
ROW_FUNCTIONS = [
    """
CREATE FUNCTION lms_class_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.until IS NULL THEN
        UPDATE class_group SET pupil_count = pupil_count - 1 WHERE id = OLD.class_group_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.until IS NULL THEN
        UPDATE class_group SET pupil_count = pupil_count + 1 WHERE id = NEW.class_group_id;
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION lms_enrollment_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE class_membership SET until = greatest(NEW.exit_date, since), updated_at = now()
     WHERE enrollment_id = NEW.id AND until IS NULL;
    RETURN NULL;
END $$""",
]
ROW_TRIGGERS = [
    "CREATE TRIGGER class_membership_size"
    " AFTER INSERT OR UPDATE OF until, class_group_id OR DELETE ON class_membership"
    " FOR EACH ROW EXECUTE FUNCTION lms_class_size()",
    "CREATE TRIGGER enrollment_ends_class_membership AFTER UPDATE OF exit_date ON enrollment"
    " FOR EACH ROW WHEN (NEW.exit_date IS NOT NULL AND OLD.exit_date IS NULL)"
    " EXECUTE FUNCTION lms_enrollment_ended()",
]


def upgrade() -> None:
    op.execute("DROP TRIGGER enrollment_ends_class_membership ON enrollment")
    op.execute("DROP TRIGGER class_membership_size ON class_membership")
    op.execute("DROP FUNCTION lms_enrollment_ended()")
    op.execute("DROP FUNCTION lms_class_size()")
    op.execute(ENDED)
    op.execute(COUNT)
    for statement in TRIGGERS:
        op.execute(statement)
    for statement in KEPT:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER enrollment_ends_class_membership ON enrollment")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER class_membership_count_{event} ON class_membership")
    op.execute("DROP FUNCTION lms_enrollments_ended()")
    op.execute("DROP FUNCTION lms_class_sizes()")
    for statement in KEPT_BEFORE + ROW_FUNCTIONS + ROW_TRIGGERS:
        op.execute(statement)
