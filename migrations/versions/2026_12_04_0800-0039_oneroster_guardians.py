"""OneRoster guardians as users (issue 15): a pupil's guardians (the registry's current
guardianships) are kept in ``oneroster_user`` with the role OneRoster 1.2 names for them
(``parent`` for a mother or father, ``guardian`` otherwise), at the school of their child's
latest class membership, so the ``agents`` of a student resolve to users.

What keeps them: statement-level triggers on ``guardianship`` (a tie made, ended or changed)
and on ``class_membership`` (a child entering or changing school moves their guardians' org),
rebuilding the guardian rows of the people concerned from the view
``oneroster_guardian_source`` (as migration 0038 does for pupils and teachers); the person and
school triggers of 0038 already keep names and regions of every kept user.
``oneroster_rebuild()`` refills the guardian rows too.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
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

# One row per guardian: a mother's or father's tie first (role ``parent``), then the child's
# latest membership names the school.
VIEW = f"""
CREATE VIEW oneroster_guardian_source ({USER_COLUMNS}) AS
SELECT DISTINCT ON (g.guardian_id) g.guardian_id,
       CASE WHEN g.kind IN ('mother', 'father') THEN 'parent' ELSE 'guardian' END,
       p.gid, 'active'::text, p.updated_at, p.first_name::text, p.last_name::text,
       p.patronymic::text, i.id, i.gid, NULL::text, i.region_id
FROM guardianship g
JOIN class_membership m ON m.pupil_id = g.child_id
JOIN person p ON p.id = g.guardian_id
JOIN institution i ON i.id = m.institution_id
WHERE g.valid_to IS NULL
ORDER BY g.guardian_id, g.kind NOT IN ('mother', 'father'), m.since DESC, m.id DESC
"""

FUNCTIONS = [
    f"""
CREATE FUNCTION oneroster_refresh_guardians(people integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF people IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM oneroster_user u
    WHERE u.role IN ('parent', 'guardian') AND u.person_id = ANY(people);
    INSERT INTO oneroster_user ({USER_COLUMNS})
    SELECT {USER_COLUMNS} FROM oneroster_guardian_source WHERE person_id = ANY(people);
END $$""",
    """
CREATE FUNCTION oneroster_guardianship_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT guardian_id) INTO people FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT guardian_id) INTO people FROM gone;
    ELSE
        SELECT array_agg(DISTINCT guardian_id) INTO people
        FROM (SELECT guardian_id FROM changed UNION ALL SELECT guardian_id FROM gone) g;
    END IF;
    PERFORM oneroster_refresh_guardians(people);
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION oneroster_membership_guardians() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    children integer[];
    people integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT pupil_id) INTO children FROM changed;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT pupil_id) INTO children FROM gone;
    ELSE
        SELECT array_agg(DISTINCT pupil_id) INTO children
        FROM (SELECT pupil_id FROM changed UNION ALL SELECT pupil_id FROM gone) p;
    END IF;
    IF children IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT guardian_id) INTO people
    FROM guardianship WHERE child_id = ANY(children);
    PERFORM oneroster_refresh_guardians(people);
    RETURN NULL;
END $$""",
    f"""
CREATE OR REPLACE FUNCTION oneroster_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE oneroster_user, oneroster_enrollment;
    INSERT INTO oneroster_user ({USER_COLUMNS})
    SELECT {USER_COLUMNS} FROM oneroster_pupil_source
    UNION ALL SELECT {USER_COLUMNS} FROM oneroster_teacher_source
    UNION ALL SELECT {USER_COLUMNS} FROM oneroster_guardian_source;
    INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
    SELECT {ENROLLMENT_COLUMNS} FROM oneroster_pupil_enrollment_source
    UNION ALL SELECT {ENROLLMENT_COLUMNS} FROM oneroster_teacher_enrollment_source;
END $$""",
]

PREVIOUS_REBUILD = f"""
CREATE OR REPLACE FUNCTION oneroster_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE oneroster_user, oneroster_enrollment;
    INSERT INTO oneroster_user ({USER_COLUMNS})
    SELECT {USER_COLUMNS} FROM oneroster_pupil_source
    UNION ALL SELECT {USER_COLUMNS} FROM oneroster_teacher_source;
    INSERT INTO oneroster_enrollment ({ENROLLMENT_COLUMNS})
    SELECT {ENROLLMENT_COLUMNS} FROM oneroster_pupil_enrollment_source
    UNION ALL SELECT {ENROLLMENT_COLUMNS} FROM oneroster_teacher_enrollment_source;
END $$"""


def _triggers(table: str, name: str, function: str) -> list[str]:
    # A trigger with transition tables has one event: three triggers per table.
    return [
        f"CREATE TRIGGER {table}_{name}_insert AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_{name}_update AFTER UPDATE ON {table}"
        " REFERENCING OLD TABLE AS gone NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_{name}_delete AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


TRIGGERS = [
    *_triggers("guardianship", "oneroster", "oneroster_guardianship_changed"),
    *_triggers("class_membership", "oneroster_guardians", "oneroster_membership_guardians"),
]


def upgrade() -> None:
    op.execute(VIEW)
    for statement in FUNCTIONS:
        op.execute(statement)
    for statement in TRIGGERS:
        op.execute(statement)
    op.execute(
        f"INSERT INTO oneroster_user ({USER_COLUMNS})"
        f" SELECT {USER_COLUMNS} FROM oneroster_guardian_source"
    )


def downgrade() -> None:
    for table, name in (("guardianship", "oneroster"), ("class_membership", "oneroster_guardians")):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_{name}_{event} ON {table}")
    op.execute("DELETE FROM oneroster_user WHERE role IN ('parent', 'guardian')")
    op.execute(PREVIOUS_REBUILD)
    for function in (
        "oneroster_membership_guardians()",
        "oneroster_guardianship_changed()",
        "oneroster_refresh_guardians(integer[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP VIEW oneroster_guardian_source")
