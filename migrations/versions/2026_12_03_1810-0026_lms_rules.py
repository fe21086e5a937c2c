"""The LMS rules the database holds (issue 15), and the reference data it starts with.

Rules: a year's partitions of ``class_lesson``, ``attendance`` and ``mark`` are made when the year
is created; a term lies within its year; a class membership needs an open enrollment, ends
when the enrollment ends, and keeps the class's pupil count (whose CHECK is the size limit);
a lesson falls in a term of its year; attendance and marks are only for pupils of the lesson's
class on its date, and a mark is given under the scheme of the class's grade (S2), within the
scheme's range. Each trigger raises with a constraint name the hub maps to a typed error.

Reference data: the national LMS policy row, the assessment scheme of every grade under both
curriculum models (S1, S2), the subjects of the state basic curriculum and their weekly hours
per grade (the ministry's yearly basic curriculum plans give the tables; these rows follow the
weekly loads of the 2018/19 plan for the 11-year model and are data the ministry edits).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-10 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = r"""
CREATE FUNCTION lms_make_year_partitions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['class_lesson', 'attendance', 'mark'] LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES IN (%s)',
            parent || '_y' || NEW.start_year, parent, NEW.id
        );
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER academic_year_partitions AFTER INSERT ON academic_year
    FOR EACH ROW EXECUTE FUNCTION lms_make_year_partitions();

CREATE FUNCTION lms_term_within_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM academic_year y
     WHERE y.id = NEW.academic_year_id AND NEW.starts_on >= y.starts_on
       AND NEW.ends_on <= y.ends_on;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a term lies within its academic year'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_term_within_year';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER term_within_year BEFORE INSERT OR UPDATE ON term
    FOR EACH ROW EXECUTE FUNCTION lms_term_within_year();

-- The enrollment row is locked FOR SHARE: a withdrawal racing this insert waits for it (and
-- then ends the membership), or has committed and this insert sees the closed enrollment.
CREATE FUNCTION lms_membership_needs_open_enrollment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.until IS NULL THEN
        PERFORM 1 FROM enrollment e
         WHERE e.id = NEW.enrollment_id AND e.exit_date IS NULL FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'a pupil is in a class only through an open enrollment'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_class_membership_open_enrollment';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER class_membership_open_enrollment
    BEFORE INSERT OR UPDATE OF until, enrollment_id ON class_membership
    FOR EACH ROW EXECUTE FUNCTION lms_membership_needs_open_enrollment();

CREATE FUNCTION lms_class_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.until IS NULL THEN
        UPDATE class_group SET pupil_count = pupil_count - 1 WHERE id = OLD.class_group_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.until IS NULL THEN
        UPDATE class_group SET pupil_count = pupil_count + 1 WHERE id = NEW.class_group_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER class_membership_size
    AFTER INSERT OR UPDATE OF until, class_group_id OR DELETE ON class_membership
    FOR EACH ROW EXECUTE FUNCTION lms_class_size();

CREATE FUNCTION lms_enrollment_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE class_membership SET until = greatest(NEW.exit_date, since), updated_at = now()
     WHERE enrollment_id = NEW.id AND until IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER enrollment_ends_class_membership AFTER UPDATE OF exit_date ON enrollment
    FOR EACH ROW WHEN (NEW.exit_date IS NOT NULL AND OLD.exit_date IS NULL)
    EXECUTE FUNCTION lms_enrollment_ended();

CREATE FUNCTION lms_class_lesson_in_term() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM term t
     WHERE t.academic_year_id = NEW.academic_year_id
       AND NEW.on_date BETWEEN t.starts_on AND t.ends_on;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a lesson falls in a term of its academic year'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_class_lesson_in_term';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER class_lesson_in_term BEFORE INSERT OR UPDATE OF on_date ON class_lesson
    FOR EACH ROW EXECUTE FUNCTION lms_class_lesson_in_term();

-- Attendance and marks copy the lesson's class and date (and a mark its subject), and are
-- refused for a pupil not in that class on that date.
CREATE FUNCTION lms_register_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    l record;
BEGIN
    SELECT class_group_id, subject_id, on_date INTO l FROM class_lesson
     WHERE academic_year_id = NEW.academic_year_id AND id = NEW.lesson_id;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key reports the missing lesson
    END IF;
    PERFORM 1 FROM class_membership m
     WHERE m.class_group_id = l.class_group_id AND m.pupil_id = NEW.pupil_id
       AND m.since <= l.on_date AND (m.until IS NULL OR m.until > l.on_date);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the pupil is not in the lesson''s class on its date'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_register_pupil_in_class';
    END IF;
    NEW.class_group_id := l.class_group_id;
    NEW.on_date := l.on_date;
    RETURN NEW;
END $$;

CREATE TRIGGER attendance_pupil_in_class BEFORE INSERT ON attendance
    FOR EACH ROW EXECUTE FUNCTION lms_register_row();

CREATE FUNCTION lms_mark_fits_grade() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT l.subject_id, a.scheme, a.min_value, a.max_value INTO r
      FROM class_lesson l
      JOIN class_group c ON c.id = l.class_group_id
      LEFT JOIN assessment_rule a ON a.curriculum_model = c.curriculum_model
                                  AND a.grade = c.grade
     WHERE l.academic_year_id = NEW.academic_year_id AND l.id = NEW.lesson_id;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF r.scheme IS DISTINCT FROM NEW.scheme
       OR (NEW.value IS NOT NULL AND (NEW.value < r.min_value OR NEW.value > r.max_value)) THEN
        RAISE EXCEPTION 'the mark does not fit the assessment scheme of the pupil''s grade'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_mark_scheme_of_grade';
    END IF;
    NEW.subject_id := r.subject_id;
    RETURN NEW;
END $$;

-- Triggers fire in name order: the class check (and the copied columns) first.
CREATE TRIGGER mark_a_pupil_in_class BEFORE INSERT ON mark
    FOR EACH ROW EXECUTE FUNCTION lms_register_row();

CREATE TRIGGER mark_b_fits_grade BEFORE INSERT ON mark
    FOR EACH ROW EXECUTE FUNCTION lms_mark_fits_grade();
"""

DROP_FUNCTIONS = """
DROP TRIGGER mark_b_fits_grade ON mark;
DROP TRIGGER mark_a_pupil_in_class ON mark;
DROP TRIGGER attendance_pupil_in_class ON attendance;
DROP TRIGGER class_lesson_in_term ON class_lesson;
DROP TRIGGER enrollment_ends_class_membership ON enrollment;
DROP TRIGGER class_membership_size ON class_membership;
DROP TRIGGER class_membership_open_enrollment ON class_membership;
DROP TRIGGER term_within_year ON term;
DROP TRIGGER academic_year_partitions ON academic_year;
DROP FUNCTION lms_mark_fits_grade();
DROP FUNCTION lms_register_row();
DROP FUNCTION lms_class_lesson_in_term();
DROP FUNCTION lms_enrollment_ended();
DROP FUNCTION lms_class_size();
DROP FUNCTION lms_membership_needs_open_enrollment();
DROP FUNCTION lms_term_within_year();
DROP FUNCTION lms_make_year_partitions();
"""

# code: (Kyrgyz, Russian, English)
SUBJECTS: dict[str, tuple[str, str, str]] = {
    "kyrgyz_language": ("Кыргыз тили", "Кыргызский язык", "Kyrgyz language"),
    "kyrgyz_literature": ("Кыргыз адабияты", "Кыргызская литература", "Kyrgyz literature"),
    "russian_language": ("Орус тили", "Русский язык", "Russian language"),
    "russian_literature": ("Орус адабияты", "Русская литература", "Russian literature"),
    "reading": ("Окуу", "Литературное чтение", "Reading"),
    "foreign_language": ("Чет тили", "Иностранный язык", "Foreign language"),
    "mathematics": ("Математика", "Математика", "Mathematics"),
    "algebra": ("Алгебра", "Алгебра", "Algebra"),
    "geometry": ("Геометрия", "Геометрия", "Geometry"),
    "informatics": ("Информатика", "Информатика", "Informatics"),
    "homeland_studies": ("Мекен таануу", "Родиноведение", "Homeland studies"),
    "natural_science": ("Табият таануу", "Естествознание", "Natural science"),
    "history_kyrgyzstan": ("Кыргызстан тарыхы", "История Кыргызстана", "History of Kyrgyzstan"),
    "world_history": ("Дүйнө тарыхы", "Всемирная история", "World history"),
    "social_studies": ("Адам жана коом", "Человек и общество", "Man and society"),
    "geography": ("География", "География", "Geography"),
    "biology": ("Биология", "Биология", "Biology"),
    "physics": ("Физика", "Физика", "Physics"),
    "chemistry": ("Химия", "Химия", "Chemistry"),
    "ethics": ("Адеп", "Этика", "Ethics"),
    "music": ("Музыка", "Музыка", "Music"),
    "fine_arts": ("Сүрөт", "Изобразительное искусство", "Fine arts"),
    "technology": ("Технология", "Технология", "Technology"),
    "physical_education": ("Дене тарбия", "Физическая культура", "Physical education"),
    "defence": ("Аскерге чейинки даярдык", "Допризывная подготовка", "Pre-conscription training"),
}

_PRIMARY = {
    1: dict(kyrgyz_language=4, reading=3, russian_language=2, mathematics=4, homeland_studies=1,
            ethics=1, music=1, fine_arts=1, technology=1, physical_education=2),
    2: dict(kyrgyz_language=4, reading=3, russian_language=3, foreign_language=1, mathematics=4,
            homeland_studies=1, ethics=1, music=1, fine_arts=1, technology=1,
            physical_education=2),
    3: dict(kyrgyz_language=4, reading=3, russian_language=3, foreign_language=2, mathematics=4,
            homeland_studies=2, ethics=1, music=1, fine_arts=1, technology=1,
            physical_education=2),
    4: dict(kyrgyz_language=4, reading=3, russian_language=3, foreign_language=2, mathematics=5,
            homeland_studies=2, ethics=1, music=1, fine_arts=1, technology=1,
            physical_education=2),
}
_BASIC = {
    7: dict(kyrgyz_language=3, kyrgyz_literature=2, russian_language=2, russian_literature=2,
            foreign_language=3, algebra=3, geometry=2, history_kyrgyzstan=1, world_history=1,
            geography=2, biology=2, physics=2, music=1, fine_arts=1, technology=1,
            physical_education=2),
    8: dict(kyrgyz_language=2, kyrgyz_literature=2, russian_language=2, russian_literature=2,
            foreign_language=3, algebra=3, geometry=2, informatics=1, history_kyrgyzstan=1,
            world_history=1, geography=2, biology=2, physics=2, chemistry=2, technology=1,
            physical_education=2),
    9: dict(kyrgyz_language=2, kyrgyz_literature=2, russian_language=2, russian_literature=2,
            foreign_language=3, algebra=3, geometry=2, informatics=1, history_kyrgyzstan=1,
            world_history=1, social_studies=1, geography=1, biology=2, physics=2, chemistry=2,
            technology=1, physical_education=2),
}
_SECONDARY = dict(kyrgyz_language=2, kyrgyz_literature=2, russian_language=1,
                  russian_literature=2, foreign_language=2, algebra=3, geometry=2, informatics=1,
                  history_kyrgyzstan=1, world_history=1, social_studies=1, geography=1,
                  biology=2, physics=2, chemistry=2, defence=2, physical_education=2)

# Weekly hours per grade: 1-4, 5-6 (basic in the old model, primary in the new), 7-9, 10-12.
ELEVEN_YEAR: dict[int, dict[str, int]] = {
    **_PRIMARY,
    5: dict(kyrgyz_language=3, kyrgyz_literature=2, russian_language=3, russian_literature=2,
            foreign_language=3, mathematics=5, history_kyrgyzstan=1, world_history=1,
            natural_science=2, ethics=1, music=1, fine_arts=1, technology=2,
            physical_education=2),
    6: dict(kyrgyz_language=3, kyrgyz_literature=2, russian_language=3, russian_literature=2,
            foreign_language=3, mathematics=5, history_kyrgyzstan=1, world_history=1,
            geography=2, biology=2, music=1, fine_arts=1, technology=2, physical_education=2),
    **_BASIC,
    10: _SECONDARY,
    11: {**_SECONDARY, "social_studies": 2},
}
TWELVE_YEAR: dict[int, dict[str, int]] = {
    **_PRIMARY,
    5: dict(kyrgyz_language=4, reading=3, russian_language=3, foreign_language=2, mathematics=5,
            natural_science=2, ethics=1, music=1, fine_arts=1, technology=1,
            physical_education=2, informatics=1),
    6: dict(kyrgyz_language=4, reading=3, russian_language=3, foreign_language=3, mathematics=5,
            natural_science=2, history_kyrgyzstan=1, ethics=1, music=1, fine_arts=1,
            technology=1, physical_education=2, informatics=1),
    **_BASIC,
    10: {**_SECONDARY, "informatics": 2},
    11: {**_SECONDARY, "social_studies": 2},
    12: {**_SECONDARY, "social_studies": 2},
}

# S2: no marks in grades 1-3, points in 4-6, criteria in 7-12 (12-year standard); the legacy
# model gives 2-5 marks from grade 2. The ranges are data: the ministry edits them.
ASSESSMENT = [
    *[("twelve_year", g, "descriptive", None, None) for g in range(1, 4)],
    *[("twelve_year", g, "points", 0, 10) for g in range(4, 7)],
    *[("twelve_year", g, "criteria", 0, 8) for g in range(7, 13)],
    ("eleven_year", 1, "descriptive", None, None),
    *[("eleven_year", g, "five_point", 2, 5) for g in range(2, 12)],
]


def _seed() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO lms_policy (institution_id, twelve_year_from, basic_only, max_class_size,"
            " school_days, min_marks_for_result, concern_reports_per_day)"
            " VALUES (NULL, 2025, false, 36, 5, 3, 3)"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO assessment_rule (curriculum_model, grade, scheme, min_value, max_value)"
            " VALUES (:m, :g, :s, :lo, :hi)"
        ),
        [dict(m=m, g=g, s=s, lo=lo, hi=hi) for m, g, s, lo, hi in ASSESSMENT],
    )
    conn.execute(
        sa.text("INSERT INTO subject (code, name_ky, name_ru, name_en) VALUES (:c, :k, :r, :e)"),
        [dict(c=c, k=k, r=r, e=e) for c, (k, r, e) in SUBJECTS.items()],
    )
    rows = [
        dict(m=model, g=grade, c=code, h=hours)
        for model, plan in (("eleven_year", ELEVEN_YEAR), ("twelve_year", TWELVE_YEAR))
        for grade, subjects in plan.items()
        for code, hours in subjects.items()
    ]
    conn.execute(
        sa.text(
            "INSERT INTO curriculum_plan (curriculum_model, grade, subject_id, weekly_hours)"
            " SELECT :m, :g, id, :h FROM subject WHERE code = :c"
        ),
        rows,
    )


def _statements(script: str, separator: str) -> list[str]:
    """One statement at a time: asyncpg prepares each ``execute`` as a single statement."""
    return [part.strip() for part in script.split(separator) if part.strip()]


def upgrade() -> None:
    for statement in _statements(FUNCTIONS, "\n\n"):
        op.execute(statement)
    _seed()


def downgrade() -> None:
    # The years' partitions go with their parents (0025's downgrade).
    for statement in _statements(DROP_FUNCTIONS, ";\n"):
        op.execute(statement)
    for table in ("curriculum_plan", "subject", "assessment_rule", "lms_policy"):
        op.execute(f"DELETE FROM {table}")
