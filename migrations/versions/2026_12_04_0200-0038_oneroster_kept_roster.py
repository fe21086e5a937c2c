"""OneRoster users and enrollments kept as tables, maintained by triggers (issue 15).

The rostering service's users and enrollments were computed from every class membership and
teaching assignment on each request (a user's latest school by ``DISTINCT ON``, ``sourcedId``s
built as text), so a school's students, a user by ``sourcedId`` or a page deep in the country's
enrollments read every membership. They are now rows of ``oneroster_user`` and
``oneroster_enrollment`` with the columns the service filters, sorts and pages by, indexed.

What keeps them: statement-level triggers (transition tables, so a bulk insert of a year's
memberships rebuilds its rows in one statement, not row by row) on ``class_membership``,
``class_subject`` and ``teaching_assignment`` (rebuild the enrollments of the changed rows and
the user rows of the people concerned), on ``person`` (names and the change time) and on
``institution`` (a school moving region). Each rebuild reads the same views
(``oneroster_*_source``) the backfill and the tests' equality check read, so the kept rows
are by construction what the service computed before. ``oneroster_rebuild()`` refills both
tables from the views (for data loaded with triggers off, as bench/lms.py does).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_COLUMNS = (
    "person_id, role, sourced_id, status, modified, given_name, family_name, middle_name,"
    " institution_id, org_id, grade, region_id"
)
ENROLLMENT_COLUMNS = (
    'sourced_id, status, modified, user_id, class_id, school_id, role, "primary", begin_date,'
    " end_date, region_id, institution_id, membership_id, assignment_id, class_subject_id"
)

VIEWS = f"""
CREATE VIEW oneroster_pupil_source ({USER_COLUMNS}) AS
SELECT DISTINCT ON (m.pupil_id) m.pupil_id, 'student'::text, p.gid, 'active'::text,
       p.updated_at, p.first_name::text, p.last_name::text, p.patronymic::text, i.id, i.gid,
       m.grade::text, i.region_id
FROM class_membership m
JOIN person p ON p.id = m.pupil_id
JOIN institution i ON i.id = m.institution_id
ORDER BY m.pupil_id, m.since DESC, m.id DESC;

CREATE VIEW oneroster_teacher_source ({USER_COLUMNS}) AS
SELECT DISTINCT ON (a.teacher_id) a.teacher_id, 'teacher'::text, p.gid, 'active'::text,
       p.updated_at, p.first_name::text, p.last_name::text, p.patronymic::text, i.id, i.gid,
       NULL::text, i.region_id
FROM teaching_assignment a
JOIN person p ON p.id = a.teacher_id
JOIN institution i ON i.id = a.institution_id
ORDER BY a.teacher_id, a.since DESC, a.id DESC;

CREATE VIEW oneroster_pupil_enrollment_source ({ENROLLMENT_COLUMNS}) AS
SELECT 'm' || m.id::text || '-' || s.id::text, 'active'::text,
       greatest(m.updated_at, s.updated_at), p.gid, s.gid, i.gid, 'student'::text, false,
       m.since, m.until, i.region_id, i.id, m.id, NULL::integer, s.id
FROM class_membership m
JOIN class_subject s ON s.class_group_id = m.class_group_id
JOIN person p ON p.id = m.pupil_id
JOIN institution i ON i.id = m.institution_id;

CREATE VIEW oneroster_teacher_enrollment_source ({ENROLLMENT_COLUMNS}) AS
SELECT 't' || a.id::text, 'active'::text, a.updated_at, p.gid, s.gid, i.gid, 'teacher'::text,
       true, a.since, a.ended_on, i.region_id, i.id, NULL::integer, a.id, s.id
FROM teaching_assignment a
JOIN class_subject s ON s.class_group_id = a.class_group_id AND s.subject_id = a.subject_id
JOIN person p ON p.id = a.teacher_id
JOIN institution i ON i.id = a.institution_id
"""

# Each function takes the keys of the changed rows as an array held in a variable, so the
# planner pushes ``= ANY(keys)`` into the views (an index probe per key), never a scan.
FUNCTIONS = f"""
CREATE FUNCTION oneroster_refresh_users(kind text, people integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM oneroster_user u WHERE u.role = kind AND u.person_id = ANY(people);
    IF kind = 'student' THEN
        INSERT INTO oneroster_user ({USER_COLUMNS})
        SELECT {USER_COLUMNS} FROM oneroster_pupil_source WHERE person_id = ANY(people);
    ELSE
        INSERT INTO oneroster_user ({USER_COLUMNS})
        SELECT {USER_COLUMNS} FROM oneroster_teacher_source WHERE person_id = ANY(people);
    END IF;
END $$;

CREATE FUNCTION oneroster_membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id), array_agg(DISTINCT pupil_id) INTO ids, people FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(id), array_agg(DISTINCT pupil_id) INTO ids, people FROM gone;
    ELSE
        SELECT array_agg(id) INTO ids FROM changed;
        SELECT array_agg(DISTINCT pupil_id) INTO people
        FROM (SELECT pupil_id FROM changed UNION ALL SELECT pupil_id FROM gone) p;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM oneroster_enrollment WHERE membership_id = ANY(ids);
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
        SELECT {ENROLLMENT_COLUMNS} FROM oneroster_pupil_enrollment_source
        WHERE membership_id = ANY(ids);
    END IF;
    PERFORM oneroster_refresh_users('student', people);
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_assignment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id), array_agg(DISTINCT teacher_id) INTO ids, people FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(id), array_agg(DISTINCT teacher_id) INTO ids, people FROM gone;
    ELSE
        SELECT array_agg(id) INTO ids FROM changed;
        SELECT array_agg(DISTINCT teacher_id) INTO people
        FROM (SELECT teacher_id FROM changed UNION ALL SELECT teacher_id FROM gone) p;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM oneroster_enrollment WHERE assignment_id = ANY(ids);
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
        SELECT {ENROLLMENT_COLUMNS} FROM oneroster_teacher_enrollment_source
        WHERE assignment_id = ANY(ids);
    END IF;
    PERFORM oneroster_refresh_users('teacher', people);
    RETURN NULL;
END $$;

-- A class's subject: its pupils' and teachers' enrollments in it (named by its global ID).
CREATE FUNCTION oneroster_class_subject_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    gids text[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(gid) INTO gids FROM gone;
    ELSE
        SELECT array_agg(id), array_agg(gid) INTO ids, gids FROM changed;
    END IF;
    IF gids IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM oneroster_enrollment WHERE class_id = ANY(gids);
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
        SELECT {ENROLLMENT_COLUMNS} FROM oneroster_pupil_enrollment_source
        WHERE class_subject_id = ANY(ids);
        INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
        SELECT {ENROLLMENT_COLUMNS} FROM oneroster_teacher_enrollment_source
        WHERE class_subject_id = ANY(ids);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE oneroster_user u
    SET modified = n.updated_at, given_name = n.first_name, family_name = n.last_name,
        middle_name = n.patronymic
    FROM changed n
    WHERE u.person_id = n.id
      AND (u.modified, u.given_name, u.family_name, u.middle_name)
          IS DISTINCT FROM (n.updated_at, n.first_name, n.last_name, n.patronymic);
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_school_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    schools integer[];
BEGIN
    SELECT array_agg(n.id) INTO schools
    FROM changed n JOIN gone o ON o.id = n.id
    WHERE n.region_id IS DISTINCT FROM o.region_id;
    IF schools IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE oneroster_user u SET region_id = i.region_id FROM institution i
    WHERE i.id = ANY(schools) AND u.institution_id = i.id;
    UPDATE oneroster_enrollment e SET region_id = i.region_id FROM institution i
    WHERE i.id = ANY(schools) AND e.school_id = i.gid;
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE oneroster_user, oneroster_enrollment;
    INSERT INTO oneroster_user ({USER_COLUMNS})
    SELECT {USER_COLUMNS} FROM oneroster_pupil_source
    UNION ALL SELECT {USER_COLUMNS} FROM oneroster_teacher_source;
    INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
    SELECT {ENROLLMENT_COLUMNS} FROM oneroster_pupil_enrollment_source
    UNION ALL SELECT {ENROLLMENT_COLUMNS} FROM oneroster_teacher_enrollment_source;
END $$
"""


def _triggers(table: str, function: str) -> list[str]:
    # A trigger with transition tables has one event: three triggers per table.
    return [
        f"CREATE TRIGGER {table}_oneroster_insert AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_oneroster_update AFTER UPDATE ON {table}"
        " REFERENCING OLD TABLE AS gone NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_oneroster_delete AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


TRIGGERS = [
    *_triggers("class_membership", "oneroster_membership_changed"),
    *_triggers("teaching_assignment", "oneroster_assignment_changed"),
    *_triggers("class_subject", "oneroster_class_subject_changed"),
    "CREATE TRIGGER person_oneroster_update AFTER UPDATE ON person"
    " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION oneroster_person_changed()",
    "CREATE TRIGGER institution_oneroster_update AFTER UPDATE ON institution"
    " REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION oneroster_school_moved()",
]


def upgrade() -> None:
    op.create_table(
        "oneroster_user",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey(
                "person.id", ondelete="CASCADE", name="fk_oneroster_user_person_id_person"
            ),
            nullable=False,
        ),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("sourced_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("person_id", "role", name="pk_oneroster_user"),
    )
    op.create_index("ix_oneroster_user_sourced_id", "oneroster_user", ["sourced_id", "role"])
    op.create_index("ix_oneroster_user_role", "oneroster_user", ["role", "sourced_id"])
    op.create_index("ix_oneroster_user_modified", "oneroster_user", ["modified"])
    op.create_index("ix_oneroster_user_institution", "oneroster_user", ["institution_id"])
    op.create_table(
        "oneroster_enrollment",
        sa.Column("sourced_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("class_id", sa.Text(), nullable=False),
        sa.Column("school_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("class_subject_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sourced_id", name="pk_oneroster_enrollment"),
    )
    for name, columns in (
        ("school", ["school_id", "role", "user_id"]),
        ("class", ["class_id", "role", "user_id"]),
        ("user", ["user_id", "role", "class_id"]),
        ("modified", ["modified"]),
    ):
        op.create_index(f"ix_oneroster_enrollment_{name}", "oneroster_enrollment", columns)
    for key in ("membership", "assignment"):
        op.create_index(
            f"ix_oneroster_enrollment_{key}",
            "oneroster_enrollment",
            [f"{key}_id"],
            postgresql_where=sa.text(f"{key}_id IS NOT NULL"),
        )
    for statement in VIEWS.split(";\n\n"):
        op.execute(statement)
    for statement in FUNCTIONS.split("$$;\n\n"):
        op.execute(statement if statement.rstrip().endswith("$$") else statement + "$$")
    for statement in TRIGGERS:
        op.execute(statement)
    op.execute("SELECT oneroster_rebuild()")


def downgrade() -> None:
    for table in ("class_membership", "teaching_assignment", "class_subject"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_oneroster_{event} ON {table}")
    op.execute("DROP TRIGGER person_oneroster_update ON person")
    op.execute("DROP TRIGGER institution_oneroster_update ON institution")
    for function in (
        "oneroster_rebuild()",
        "oneroster_school_moved()",
        "oneroster_person_changed()",
        "oneroster_class_subject_changed()",
        "oneroster_assignment_changed()",
        "oneroster_membership_changed()",
        "oneroster_refresh_users(text, integer[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    for view in (
        "oneroster_teacher_enrollment_source",
        "oneroster_pupil_enrollment_source",
        "oneroster_teacher_source",
        "oneroster_pupil_source",
    ):
        op.execute(f"DROP VIEW {view}")
    op.drop_table("oneroster_enrollment")
    op.drop_table("oneroster_user")
