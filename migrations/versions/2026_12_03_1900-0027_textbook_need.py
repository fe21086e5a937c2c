"""The textbook fund's summary (issue 17): pupils per school and grade (``textbook_pupils``)
and need, stock, issue and cover per school year, school, grade and textbook language
(``textbook_need``), kept by triggers so that the country's provision reads a few thousand
rows instead of every enrollment and every copy.

Who changes what: enrollments change the pupils (statement triggers with transition tables,
so a bulk load counts once per statement); copies change ``library_holding`` (migration 0015),
whose statement triggers recount the (school, grade) pairs of approved textbooks touched;
approvals, a record's grade or language, a school's kind or languages recount every pair they
touch. Every recount first locks the pairs' ``textbook_pupils`` rows in key order, and every
writer of a pair goes through that lock, so two transactions never recount one pair from
snapshots that miss each other's change.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Recount the summary rows of (school, grade) pairs given as two arrays of equal length.
# ``needed`` and ``covered`` count only titles in the school's language of instruction (its
# first language; the registry has none per pupil yet); ``held`` and ``issued`` count every
# approved title of the grade the school holds, as the report always has.
REFRESH = """
CREATE FUNCTION textbook_need_refresh(p_insts int[], p_grades int[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO textbook_pupils (institution_id, grade_level, pupils)
    SELECT DISTINCT k.i, k.g, 0 FROM unnest(p_insts, p_grades) AS k(i, g)
    WHERE k.i IS NOT NULL AND k.g IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT (institution_id, grade_level) DO NOTHING;
    PERFORM 1 FROM textbook_pupils p
    WHERE (p.institution_id, p.grade_level) IN (SELECT * FROM unnest(p_insts, p_grades))
    ORDER BY p.institution_id, p.grade_level
    FOR UPDATE;
    DELETE FROM textbook_need n
    WHERE (n.institution_id, n.grade) IN (SELECT * FROM unnest(p_insts, p_grades));
    INSERT INTO textbook_need AS n
        (school_year, institution_id, grade, language, needed, held, issued, covered)
    SELECT a.school_year, s.id, r.grade, r.language,
           sum(CASE WHEN r.language = s.languages[1] THEN p.pupils ELSE 0 END),
           sum(coalesce(h.held, 0)), sum(coalesce(h.on_loan, 0)),
           sum(CASE WHEN r.language = s.languages[1]
                    THEN least(coalesce(h.held, 0), p.pupils) ELSE 0 END)
    FROM (SELECT DISTINCT i, g FROM unnest(p_insts, p_grades) AS k(i, g)) k
    JOIN institution s ON s.id = k.i AND s.kind = 'school'
    JOIN textbook_pupils p ON p.institution_id = k.i AND p.grade_level = k.g
    JOIN bib_record r ON r.grade = k.g
    JOIN textbook_approval a ON a.record_id = r.id
    LEFT JOIN library_holding h ON h.institution_id = s.id AND h.record_id = r.id
    GROUP BY a.school_year, s.id, r.grade, r.language
    HAVING sum(CASE WHEN r.language = s.languages[1] THEN p.pupils ELSE 0 END) > 0
        OR sum(coalesce(h.held, 0)) > 0 OR sum(coalesce(h.on_loan, 0)) > 0;
END
$$
"""

_PUPIL_ROWS = """
    SELECT institution_id, grade_level, {sign}1 AS n FROM {table}
    WHERE exit_date IS NULL AND grade_level IS NOT NULL
"""
_PUPILS_UPSERT = """
    WITH delta AS (
        SELECT institution_id, grade_level, sum(n) AS n FROM ({rows}) c
        GROUP BY 1, 2 HAVING sum(n) <> 0
    ), applied AS (
        INSERT INTO textbook_pupils AS p (institution_id, grade_level, pupils)
        SELECT institution_id, grade_level, n FROM delta ORDER BY 1, 2
        ON CONFLICT (institution_id, grade_level) DO UPDATE SET pupils = p.pupils + excluded.pupils
        RETURNING p.institution_id, p.grade_level
    )
    SELECT array_agg(institution_id), array_agg(grade_level) INTO insts, grades FROM applied;
"""
_PLUS = _PUPIL_ROWS.format(sign="", table="new_rows")
_MINUS = _PUPIL_ROWS.format(sign="-", table="old_rows")
PUPILS_FUNCTION = f"""
CREATE FUNCTION textbook_pupils_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    insts int[];
    grades int[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_PUPILS_UPSERT.format(rows=_PLUS)}
    ELSIF TG_OP = 'DELETE' THEN
        {_PUPILS_UPSERT.format(rows=_MINUS)}
    ELSE
        {_PUPILS_UPSERT.format(rows=_PLUS + " UNION ALL " + _MINUS)}
    END IF;
    IF insts IS NOT NULL AND EXISTS (SELECT 1 FROM textbook_approval) THEN
        PERFORM textbook_need_refresh(insts, grades);
    END IF;
    RETURN NULL;
END
$$
"""

# A copy lent, returned, added or lost changes its holding row; only approved textbooks'
# holdings are part of the fund.
HOLDING_FUNCTION = """
CREATE FUNCTION textbook_need_holding() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    insts int[];
    grades int[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(i), array_agg(g) INTO insts, grades FROM (
            SELECT DISTINCT c.institution_id AS i, r.grade AS g FROM old_rows c
            JOIN bib_record r ON r.id = c.record_id
            WHERE r.grade IS NOT NULL
              AND EXISTS (SELECT 1 FROM textbook_approval a WHERE a.record_id = c.record_id)
            ORDER BY 1, 2) k;
    ELSE
        SELECT array_agg(i), array_agg(g) INTO insts, grades FROM (
            SELECT DISTINCT c.institution_id AS i, r.grade AS g FROM new_rows c
            JOIN bib_record r ON r.id = c.record_id
            WHERE r.grade IS NOT NULL
              AND EXISTS (SELECT 1 FROM textbook_approval a WHERE a.record_id = c.record_id)
            ORDER BY 1, 2) k;
    END IF;
    IF insts IS NOT NULL THEN
        PERFORM textbook_need_refresh(insts, grades);
    END IF;
    RETURN NULL;
END
$$
"""

# An approval added or withdrawn (or moved to another record or year) recounts every school
# for the grades of the records it names.
APPROVAL_FUNCTION = """
CREATE FUNCTION textbook_need_approval() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    insts int[];
    grades int[];
BEGIN
    SELECT array_agg(s.id ORDER BY s.id, g.grade), array_agg(g.grade ORDER BY s.id, g.grade)
    INTO insts, grades
    FROM (SELECT DISTINCT r.grade FROM bib_record r
          WHERE r.grade IS NOT NULL AND r.id IN (
              SELECT record_id FROM textbook_approval_changed())) g
    CROSS JOIN institution s WHERE s.kind = 'school';
    IF insts IS NOT NULL THEN
        PERFORM textbook_need_refresh(insts, grades);
    END IF;
    RETURN NULL;
END
$$
"""


def _approval_function(table: str) -> str:
    return APPROVAL_FUNCTION.replace(
        "CREATE FUNCTION textbook_need_approval()",
        f"CREATE FUNCTION textbook_need_approval_{table}()",
    ).replace("SELECT record_id FROM textbook_approval_changed()", f"SELECT record_id FROM {table}")


# A record's grade or language, or a school's kind or languages, changes rarely: row triggers.
RECORD_FUNCTION = """
CREATE FUNCTION textbook_need_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    insts int[];
    grades int[];
BEGIN
    IF EXISTS (SELECT 1 FROM textbook_approval a WHERE a.record_id = NEW.id) THEN
        SELECT array_agg(s.id ORDER BY s.id, g), array_agg(g ORDER BY s.id, g)
        INTO insts, grades
        FROM institution s
        CROSS JOIN (SELECT DISTINCT g FROM unnest(ARRAY[OLD.grade, NEW.grade]::int[]) g
                    WHERE g IS NOT NULL) gs
        WHERE s.kind = 'school';
        IF insts IS NOT NULL THEN
            PERFORM textbook_need_refresh(insts, grades);
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""
INSTITUTION_FUNCTION = """
CREATE FUNCTION textbook_need_institution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM textbook_need_refresh(array_fill(NEW.id, ARRAY[12]), ARRAY(SELECT generate_series(1, 12)));
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    "CREATE TRIGGER textbook_pupils_insert AFTER INSERT ON enrollment "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION textbook_pupils_apply()",
    "CREATE TRIGGER textbook_pupils_update AFTER UPDATE ON enrollment "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION textbook_pupils_apply()",
    "CREATE TRIGGER textbook_pupils_delete AFTER DELETE ON enrollment "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION textbook_pupils_apply()",
    "CREATE TRIGGER textbook_need_holding_insert AFTER INSERT ON library_holding "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_holding()",
    "CREATE TRIGGER textbook_need_holding_update AFTER UPDATE ON library_holding "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_holding()",
    "CREATE TRIGGER textbook_need_holding_delete AFTER DELETE ON library_holding "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_holding()",
    "CREATE TRIGGER textbook_need_approval_insert AFTER INSERT ON textbook_approval "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_approval_new_rows()",
    "CREATE TRIGGER textbook_need_approval_update AFTER UPDATE ON textbook_approval "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_approval_new_rows()",
    "CREATE TRIGGER textbook_need_approval_update_old AFTER UPDATE ON textbook_approval "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_approval_old_rows()",
    "CREATE TRIGGER textbook_need_approval_delete AFTER DELETE ON textbook_approval "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION textbook_need_approval_old_rows()",
    "CREATE TRIGGER textbook_need_record AFTER UPDATE OF grade, language, kind ON bib_record "
    "FOR EACH ROW WHEN (OLD.grade IS DISTINCT FROM NEW.grade "
    "OR OLD.language IS DISTINCT FROM NEW.language OR OLD.kind IS DISTINCT FROM NEW.kind) "
    "EXECUTE FUNCTION textbook_need_record()",
    "CREATE TRIGGER textbook_need_institution AFTER UPDATE OF kind, languages ON institution "
    "FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind "
    "OR OLD.languages IS DISTINCT FROM NEW.languages) "
    "EXECUTE FUNCTION textbook_need_institution()",
)
TRIGGER_TABLES = {
    "textbook_pupils_insert": "enrollment",
    "textbook_pupils_update": "enrollment",
    "textbook_pupils_delete": "enrollment",
    "textbook_need_holding_insert": "library_holding",
    "textbook_need_holding_update": "library_holding",
    "textbook_need_holding_delete": "library_holding",
    "textbook_need_approval_insert": "textbook_approval",
    "textbook_need_approval_update": "textbook_approval",
    "textbook_need_approval_update_old": "textbook_approval",
    "textbook_need_approval_delete": "textbook_approval",
    "textbook_need_record": "bib_record",
    "textbook_need_institution": "institution",
}
FUNCTIONS = (
    "textbook_pupils_apply()",
    "textbook_need_holding()",
    "textbook_need_approval_new_rows()",
    "textbook_need_approval_old_rows()",
    "textbook_need_record()",
    "textbook_need_institution()",
    "textbook_need_refresh(int[], int[])",
)

BACKFILL = (
    "INSERT INTO textbook_pupils (institution_id, grade_level, pupils) "
    "SELECT institution_id, grade_level, count(*) FROM enrollment "
    "WHERE exit_date IS NULL AND grade_level IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT textbook_need_refresh(array_agg(i), array_agg(g)) FROM ("
    " SELECT institution_id AS i, grade_level AS g FROM textbook_pupils"
    " UNION SELECT h.institution_id, r.grade FROM library_holding h"
    " JOIN bib_record r ON r.id = h.record_id"
    " WHERE r.grade IS NOT NULL AND h.record_id IN (SELECT record_id FROM textbook_approval)"
    ") k",
)


def upgrade() -> None:
    op.create_table(
        "textbook_pupils",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("grade_level", sa.SmallInteger(), nullable=False),
        sa.Column("pupils", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_textbook_pupils_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint("institution_id", "grade_level", name=op.f("pk_textbook_pupils")),
    )
    op.create_table(
        "textbook_need",
        sa.Column("school_year", sa.SmallInteger(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column(
            "language",
            sa.Enum(
                "ky",
                "ru",
                "uz",
                "tg",
                "en",
                name="language",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_textbook_need_institution_id_institution"),
        ),
        sa.PrimaryKeyConstraint(
            "school_year", "institution_id", "grade", "language", name=op.f("pk_textbook_need")
        ),
    )
    op.execute(REFRESH)
    op.execute(PUPILS_FUNCTION)
    op.execute(HOLDING_FUNCTION)
    op.execute(_approval_function("new_rows"))
    op.execute(_approval_function("old_rows"))
    op.execute(RECORD_FUNCTION)
    op.execute(INSTITUTION_FUNCTION)
    for statement in TRIGGERS:
        op.execute(statement)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for name, table in TRIGGER_TABLES.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_table("textbook_need")
    op.drop_table("textbook_pupils")
