"""The OneRoster 1.2 gradebook collections over the hub's gradebook (S2): categories,
lineItems, results and scoreScales. Each is one SQL statement with uniform column names, like
the rostering collections.

How the hub maps onto the gradebook service:
- categories: the kinds of mark (``MarkWork``: classwork, oral answer, written work,
  homework, test, project), national, the same for every class.
- lineItems: a column of a class's gradebook: one kind of mark given in one lesson of a class
  and subject (a lesson with an oral answer and a written test is two lineItems). A lineItem
  exists once a pupil has a mark in it; it is dated by its lesson (``assignDate`` and
  ``dueDate``: the lesson's start, Bishkek time), in the grading period of the quarter the
  lesson falls in (``academicSession``).
- results: marks; a corrected mark is ``tobedeleted`` from the moment it was superseded, and
  the correction is a new result, so a partner reading changes since a time sees both.
- scoreScales: the assessment scheme of a class (one per OneRoster class, since the
  specification ties a scale to a class): descriptive feedback (grades 1-3 of the 12-year
  standard and grade 1 of the 11-year model), points 0-10 (grades 4-6), criteria-based levels
  0-8 on criteria A-D (grades 7-12), the legacy marks 2-5 (the 11-year model), each with the
  range the ``assessment_rule`` row of the class's grade sets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Select,
    cast,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
)

from models import (
    AcademicYear,
    AssessmentRule,
    AssessmentScheme,
    ClassGroup,
    ClassLesson,
    ClassSubject,
    CurriculumPlan,
    Institution,
    Mark,
    MarkWork,
    Person,
    Subject,
    Term,
)
from resolvers.lms.oneroster.shape import (
    STAMP,
    Ref,
    base,
    course_of_class,
    grading_period_id,
    iso,
    scale_of_class,
)
from resolvers.lms.oneroster.shape import text as _text

# The kinds of mark have no rows; their dateLastModified is when this mapping was published.
CATEGORIES_MODIFIED = datetime.fromisoformat("2026-12-03T00:00:00+00:00")
CATEGORY_TITLES = {
    MarkWork.CLASSWORK: "Classwork",
    MarkWork.ORAL: "Oral answer",
    MarkWork.WRITTEN: "Written work",
    MarkWork.HOMEWORK: "Homework",
    MarkWork.TEST: "Test",
    MarkWork.PROJECT: "Project",
}
SCALE_TITLES = {
    AssessmentScheme.DESCRIPTIVE: "Descriptive feedback, no marks",
    AssessmentScheme.POINTS: "Points",
    AssessmentScheme.CRITERIA: "Criteria-based levels (criteria A-D)",
    AssessmentScheme.FIVE_POINT: "Legacy 5-point marks",
}
FIVE_POINT_WORDS = {5: "excellent", 4: "good", 3: "satisfactory", 2: "unsatisfactory", 1: "poor"}
# Lessons are dated in the republic's one time zone.
LOCAL_ZONE = "Asia/Bishkek"


def category_id(work: Any) -> Any:
    return "category-" + _text(work)


def scale_id(class_subject_gid: Any) -> Any:
    return "scale-" + class_subject_gid


def line_item_id(year: Any, lesson: Any, work: Any) -> Any:
    return "lesson-" + _text(year) + "-" + _text(lesson) + "-" + _text(work)


def categories() -> Select[Any]:
    rows = [
        select(
            literal(f"category-{work.value}").label("sourced_id"),
            literal("active").label("status"),
            literal(CATEGORIES_MODIFIED, DateTime(timezone=True)).label("modified"),
            literal(title).label("title"),
            cast(null(), Integer).label("region_id"),
        )
        for work, title in CATEGORY_TITLES.items()
    ]
    return select(union_all(*rows).subquery())


def score_scales() -> Select[Any]:
    rule = AssessmentRule
    inner = (
        select(
            scale_id(ClassSubject.gid).label("sourced_id"),
            literal("active").label("status"),
            func.greatest(ClassSubject.updated_at, ClassGroup.updated_at, type_=STAMP).label(
                "modified"
            ),
            _text(rule.scheme).label("type"),
            ClassSubject.gid.label("class_id"),
            CurriculumPlan.gid.label("course_id"),
            Institution.gid.label("school_id"),
            rule.min_value.label("min_value"),
            rule.max_value.label("max_value"),
            Institution.region_id.label("region_id"),
        )
        .select_from(ClassSubject)
        .join(ClassGroup, ClassGroup.id == ClassSubject.class_group_id)
        .join(rule, scale_of_class())
        .join(Institution, Institution.id == ClassGroup.institution_id)
        .outerjoin(CurriculumPlan, course_of_class())
        .subquery()
    )
    return select(inner)


def line_items() -> Select[Any]:
    # Per lesson, the kinds of mark given in it: through the index of current marks by lesson
    # (a correction supersedes a mark and adds its successor, so every column keeps a current
    # mark; its newest one dates the column's last change).
    works = (
        select(Mark.work.label("work"), func.max(Mark.recorded_at).label("marked"))
        .where(
            Mark.academic_year_id == ClassLesson.academic_year_id,
            Mark.lesson_id == ClassLesson.id,
            Mark.superseded_at.is_(None),
        )
        .group_by(Mark.work)
        .lateral("works")
    )
    minutes = func.make_interval(0, 0, 0, 0, 0, ClassLesson.starts_minute)
    starts = type_coerce(
        func.timezone(LOCAL_ZONE, cast(ClassLesson.on_date, DateTime) + minutes),
        DateTime(timezone=True),
    )
    rule = AssessmentRule
    inner = (
        select(
            line_item_id(ClassLesson.academic_year_id, ClassLesson.id, works.c.work).label(
                "sourced_id"
            ),
            literal("active").label("status"),
            func.greatest(works.c.marked, ClassLesson.updated_at, type_=STAMP).label("modified"),
            (Subject.name_en + " " + _text(ClassLesson.on_date) + ": " + _text(works.c.work)).label(
                "title"
            ),
            ClassLesson.topic.label("description"),
            starts.label("assign_date"),
            starts.label("due_date"),
            ClassSubject.gid.label("class_id"),
            Institution.gid.label("school_id"),
            category_id(works.c.work).label("category_id"),
            # The grading period the lesson's marks count in (its quarter's), else the year.
            func.coalesce(grading_period_id(Term.gid), AcademicYear.gid).label("session_id"),
            scale_id(ClassSubject.gid).label("scale_id"),
            rule.min_value.label("min_value"),
            rule.max_value.label("max_value"),
            Institution.region_id.label("region_id"),
        )
        .select_from(ClassLesson)
        .join(works, true())
        .join(
            ClassSubject,
            (ClassSubject.class_group_id == ClassLesson.class_group_id)
            & (ClassSubject.subject_id == ClassLesson.subject_id),
        )
        .join(ClassGroup, ClassGroup.id == ClassLesson.class_group_id)
        .join(Subject, Subject.id == ClassLesson.subject_id)
        .join(Institution, Institution.id == ClassLesson.institution_id)
        .join(AcademicYear, AcademicYear.id == ClassLesson.academic_year_id)
        .outerjoin(rule, scale_of_class())
        .outerjoin(
            Term,
            (Term.academic_year_id == ClassLesson.academic_year_id)
            & (ClassLesson.on_date.between(Term.starts_on, Term.ends_on)),
        )
        .subquery()
    )
    return select(inner)


def results() -> Select[Any]:
    # From the class to its marks, the year known: current marks through the partial index of
    # current marks by (year, class, subject), corrected ones through theirs (migration 0037),
    # so a class's results never scan the year's partition of marks.
    def marks(current: bool) -> Select[Any]:
        return (
            select(
                ("mark-" + _text(Mark.academic_year_id) + "-" + _text(Mark.id)).label("sourced_id"),
                literal("active" if current else "tobedeleted").label("status"),
                func.coalesce(Mark.superseded_at, Mark.recorded_at).label("modified"),
                line_item_id(Mark.academic_year_id, Mark.lesson_id, Mark.work).label(
                    "line_item_id"
                ),
                Person.gid.label("student_id"),
                ClassSubject.gid.label("class_id"),
                scale_id(ClassSubject.gid).label("scale_id"),
                cast(Mark.value, Float).label("score"),
                Mark.criterion.label("text_score"),
                Mark.on_date.label("score_date"),
                Mark.comment.label("comment"),
                _text(Mark.scheme).label("scheme"),
                Institution.region_id.label("region_id"),
            )
            .select_from(ClassSubject)
            .join(ClassGroup, ClassGroup.id == ClassSubject.class_group_id)
            .join(Institution, Institution.id == ClassGroup.institution_id)
            .join(
                Mark,
                (Mark.academic_year_id == ClassGroup.academic_year_id)
                & (Mark.class_group_id == ClassSubject.class_group_id)
                & (Mark.subject_id == ClassSubject.subject_id),
            )
            .join(Person, Person.id == Mark.pupil_id)
            .where(Mark.superseded_at.is_(None) if current else Mark.superseded_at.is_not(None))
        )

    return select(union_all(marks(True), marks(False)).subquery())


# --- rendering -------------------------------------------------------------------------------


def render_category(row: Any, ref: Ref) -> dict[str, Any]:
    return base(row) | {"title": row.title}


def scale_values(scheme: str, low: int | None, high: int | None) -> list[dict[str, str]]:
    """The values of a scheme's scale: what a result shows (``itemValueLHS``) and what it
    means (``itemValueRHS``)."""
    if scheme == AssessmentScheme.DESCRIPTIVE or low is None or high is None:
        return [{"itemValueLHS": "descriptive", "itemValueRHS": "feedback in words, no mark"}]
    values = range(high, low - 1, -1)
    if scheme == AssessmentScheme.FIVE_POINT:
        return [{"itemValueLHS": str(v), "itemValueRHS": FIVE_POINT_WORDS[v]} for v in values]
    if scheme == AssessmentScheme.CRITERIA:
        return [
            {"itemValueLHS": str(v), "itemValueRHS": f"level {v} of {high} on the criterion"}
            for v in values
        ]
    return [{"itemValueLHS": str(v), "itemValueRHS": f"{v} of {high} points"} for v in values]


def render_score_scale(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "title": SCALE_TITLES.get(AssessmentScheme(row.type), row.type),
        "type": row.type,
        "class": ref("classes", row.class_id, "class"),
        "scoreScaleValue": scale_values(row.type, row.min_value, row.max_value),
    }
    if row.course_id:
        out["course"] = ref("courses", row.course_id, "course")
    return out


def render_line_item(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "title": row.title,
        "assignDate": iso(row.assign_date),
        "dueDate": iso(row.due_date),
        "class": ref("classes", row.class_id, "class"),
        "school": ref("orgs", row.school_id, "org"),
        "category": ref("categories", row.category_id, "category"),
        "academicSession": ref("academicSessions", row.session_id, "academicSession"),
        "scoreScale": ref("scoreScales", row.scale_id, "scoreScale"),
    }
    if row.description:
        out["description"] = row.description
    if row.min_value is not None:
        out["resultValueMin"] = float(row.min_value)
        out["resultValueMax"] = float(row.max_value)
    return out


def render_result(row: Any, ref: Ref) -> dict[str, Any]:
    out = base(row) | {
        "lineItem": ref("lineItems", row.line_item_id, "lineItem"),
        "student": ref("users", row.student_id, "user"),
        "class": ref("classes", row.class_id, "class"),
        "scoreScale": ref("scoreScales", row.scale_id, "scoreScale"),
        "scoreStatus": "fully graded",
        "scoreDate": iso(row.score_date),
    }
    if row.score is not None:
        out["score"] = row.score
    if row.text_score:
        out["textScore"] = row.text_score
    if row.comment:
        out["comment"] = row.comment
    return out
