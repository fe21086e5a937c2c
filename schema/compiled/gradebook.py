"""The compiled gradebook (issue 15): a class's gradebook for a subject and a term in one
statement, PostgreSQL writing the JSON of the whole selection.

The resolvers' answer (:func:`resolvers.lms.journal` and ``schema/lms/records.py``) is made of
four statements and ~1,100 fields that graphql-core resolves one by one; here every field is a
SQL expression: the head (class, term, scheme, subject) under the gradebook's row rule
(:func:`resolvers.lms.rules.gradebook_readable`), the lessons, and one line per pupil with
their marks, absences, the result by the declared rule (:data:`resolvers.lms.RESULT_RULE`,
computed in SQL as :func:`resolvers.lms.computed_result` computes it) and the one the teacher
set. Pupils are read through the person rule, as the resolvers' loader reads them. Fields the
compiler does not know here (a lesson's teacher, a mark's pupil, a class's school ...) make the
whole request take the resolvers. ``tests/lms/test_compiled_gradebook.py`` compares both
paths' bytes for every kind of caller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Numeric,
    Text,
    Time,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from models import (
    AssessmentRule,
    AssessmentScheme,
    AttendanceStatus,
    ClassGroup,
    ClassLesson,
    ClassLessonStatus,
    ClassMembership,
    LmsPolicy,
    Mark,
    MarkWork,
    ResultOverride,
    Subject,
    Term,
)
from models.lms.gradebook import Attendance
from resolvers import lms as lms_service
from resolvers.errors import RequestError
from resolvers.relay import decode_id
from schema.compiled.plan import Unsupported
from schema.compiled.sql import (
    NULL_JSON,
    enum_json,
    global_id,
    json_list,
    json_object,
    json_string,
    json_text,
    lit,
    timestamp_value,
)

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

Column = Callable[[FromClause], ColumnElement[Any]]


def _col(name: str) -> Column:
    return lambda src: src.c[name]


def _enum(enum_cls: Any, name: str) -> Column:
    return lambda src: enum_json(enum_cls, src.c[name])


def _id(type_name: str) -> Column:
    def make(src: FromClause) -> ColumnElement[Any]:
        stored = src.c.get("gid")
        return stored if stored is not None else global_id(type_name, src.c.id)

    return make


def _clock(name: str) -> Column:
    """Minutes after midnight as the time the resolvers show (23:59 at most)."""

    def make(src: FromClause) -> ColumnElement[Any]:
        minutes = func.least(src.c[name], 1439)
        return cast(literal_column("interval '1 minute'") * minutes, Time)

    return make


def _timestamp(name: str) -> Column:
    return lambda src: timestamp_value(src.c[name])


TERM: dict[str, Column] = {
    "id": _id("Term"),
    "number": _col("number"),
    "startsOn": _col("starts_on"),
    "endsOn": _col("ends_on"),
}
CLASS_GROUP: dict[str, Column] = {
    "id": _id("ClassGroup"),
    "name": lambda k: func.concat(cast(k.c.grade, Text), k.c.letter),
    "grade": _col("grade"),
    "letter": _col("letter"),
    "shift": _col("shift"),
    "capacity": _col("capacity"),
    "pupilCount": _col("pupil_count"),
}
SUBJECT: dict[str, Column] = {
    "id": _id("Subject"),
    "code": _col("code"),
    "nameKy": _col("name_ky"),
    "nameRu": _col("name_ru"),
    "nameEn": _col("name_en"),
}
LESSON: dict[str, Column] = {
    "id": _id("ClassLesson"),
    "date": _col("on_date"),
    "startsAt": _clock("starts_minute"),
    "endsAt": _clock("ends_minute"),
    "subgroup": _col("subgroup"),
    "topic": _col("topic"),
    "status": _enum(ClassLessonStatus, "status"),
    "attendanceTakenAt": _timestamp("attendance_taken_at"),
}
MARK: dict[str, Column] = {
    "work": _enum(MarkWork, "work"),
    "scheme": _enum(AssessmentScheme, "scheme"),
    "value": _col("value"),
    "criterion": _col("criterion"),
    "comment": _col("comment"),
    "date": _col("on_date"),
    "recordedAt": _timestamp("recorded_at"),
    "correctionReason": _col("correction_reason"),
    # the gradebook holds current marks only
    "supersededAt": lambda src: NULL_JSON,
}
ABSENCE: dict[str, Column] = {
    "status": _enum(AttendanceStatus, "status"),
    "reason": _col("reason"),
    "minutesLate": _col("minutes_late"),
}
OVERRIDE: dict[str, Column] = {
    "value": _col("value"),
    "comment": _col("comment"),
    "computedValue": _col("computed_value"),
    "reason": _col("reason"),
    "decidedBy": _col("decided_by"),
    "decidedAt": _timestamp("decided_at"),
}
HEAD_SCALARS = {"scheme", "minValue", "maxValue", "resultRule"}
ROW_SCALARS = {"inClassSince", "leftClassOn", "computedResult", "result"}
OBJECTS: dict[str, tuple[str, dict[str, Column]]] = {
    "term": ("Term", TERM),
    "classGroup": ("ClassGroup", CLASS_GROUP),
    "subject": ("Subject", SUBJECT),
}


# --- the static check ------------------------------------------------------------------------


# On since one kept statement serves every teacher (the caller's keys are arguments,
# schema/compiled/cache.py): 37.6-40.1 ms of CPU a request on the resolvers, 8.8-9.9 ms here
# (docs/performance.md, "The compiled gradebook"). Its answers equal the resolvers' (tested);
# False sends every gradebook through the resolvers again.
ENABLED = True


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under ``gradebook`` have a compiled form here?"""
    if not ENABLED:
        raise Unsupported("the compiled gradebook is off")
    for _key, sub in shape.fields.collect("Gradebook", nodes).items():
        name = sub[0].name.value
        if name == "__typename" or name in HEAD_SCALARS:
            continue
        if name in OBJECTS:
            _check_plain(shape, *OBJECTS[name], sub)
        elif name == "lessons":
            _check_plain(shape, "ClassLesson", LESSON, sub)
        elif name == "rows":
            _check_rows(shape, sub)
        else:
            raise Unsupported(f"Gradebook.{name}")


def _check_plain(
    shape: _Shape, type_name: str, known: dict[str, Column], nodes: Sequence[FieldNode]
) -> None:
    for _key, sub in shape.fields.collect(type_name, nodes).items():
        name = sub[0].name.value
        if name != "__typename" and name not in known:
            raise Unsupported(f"{type_name}.{name}")


def _check_rows(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    for _key, sub in shape.fields.collect("GradebookRow", nodes).items():
        name = sub[0].name.value
        if name == "__typename" or name in ROW_SCALARS:
            continue
        if name == "pupil":
            shape.check_object("Person", sub)
        elif name == "marks":
            _check_plain(shape, "Mark", MARK, sub)
        elif name == "absences":
            _check_plain(shape, "Absence", ABSENCE, sub)
        elif name == "override":
            _check_plain(shape, "ResultOverride", OVERRIDE, sub)
        else:
            raise Unsupported(f"GradebookRow.{name}")


# --- the statement ---------------------------------------------------------------------------


def _pk(value: Any, type_name: str) -> int:
    """A key from a global ID of ``type_name``; any other ID takes the resolvers (their
    INVALID_ID). The key only ever reaches the SQL as an argument."""
    try:
        found, pk = decode_id(value)
    except RequestError:
        raise Unsupported("id") from None
    if found != type_name:
        raise Unsupported("id of another type")
    return pk


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """The gradebook's JSON, or null when there is none the caller may read."""
    principal = builder.principal
    if principal.is_anonymous or principal.grant is not None:
        raise Unsupported("anonymous or partner")  # the resolvers' errors and field rules
    args = builder.args("Query", nodes[0])
    klass_pk = _pk(args["class_group_id"], "ClassGroup")
    subject_pk = _pk(args["subject_id"], "Subject")
    term_pk = _pk(args["term_id"], "Term")
    k = ClassGroup.__table__.alias("gb_class")
    t = Term.__table__.alias("gb_term")
    r = AssessmentRule.__table__.alias("gb_rule")
    s = Subject.__table__.alias("gb_subject")
    head = _Head(k, t, r, s)
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect("Gradebook", nodes).items():
        name = sub[0].name.value
        if name == "__typename":
            pairs.append((key, json_string("Gradebook")))
        elif name == "scheme":
            pairs.append((key, enum_json(AssessmentScheme, r.c.scheme)))
        elif name == "minValue":
            pairs.append((key, r.c.min_value))
        elif name == "maxValue":
            pairs.append((key, r.c.max_value))
        elif name == "resultRule":
            pairs.append((key, json_string(lms_service.RESULT_RULE)))
        elif name in OBJECTS:
            type_name, known = OBJECTS[name]
            src = {"term": t, "classGroup": k, "subject": s}[name]
            pairs.append((key, _plain(builder, type_name, known, src, sub)))
        elif name == "lessons":
            pairs.append((key, head.lessons(builder, sub)))
        elif name == "rows":
            pairs.append((key, head.rows(builder, sub)))
        else:
            raise Unsupported(name)
    stmt = (
        select(json_object(pairs))
        .select_from(k)
        .join(t, t.c.academic_year_id == k.c.academic_year_id)
        .join(
            r,
            and_(r.c.curriculum_model == k.c.curriculum_model, r.c.grade == k.c.grade),
        )
        .join(s, s.c.id == subject_pk)
        .where(
            k.c.id == klass_pk,
            t.c.id == term_pk,
            lms_service.gradebook_readable(principal, k.c.id, s.c.id),
        )
    )
    return stmt.scalar_subquery()


def _plain(
    builder: Builder,
    type_name: str,
    known: dict[str, Column],
    src: FromClause,
    nodes: Sequence[FieldNode],
) -> ColumnElement[Any]:
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect(type_name, nodes).items():
        name = sub[0].name.value
        if name == "__typename":
            pairs.append((key, json_string(type_name)))
        else:
            pairs.append((key, known[name](src)))
    return json_object(pairs)


class _Head:
    """The gradebook's head row (class, term, rule, subject) the lists correlate with."""

    def __init__(self, k: FromClause, t: FromClause, r: FromClause, s: FromClause) -> None:
        self.k, self.t, self.r, self.s = k, t, r, s

    def lessons(self, builder: Builder, nodes: Sequence[FieldNode]) -> ColumnElement[Any]:
        k, t, s = self.k, self.t, self.s
        c = ClassLesson.__table__.alias("gb_lesson")
        element = _plain(builder, "ClassLesson", LESSON, c, nodes)
        stmt = select(json_list(element, c.c.on_date, c.c.starts_minute, c.c.id)).where(
            c.c.academic_year_id == k.c.academic_year_id,
            c.c.class_group_id == k.c.id,
            c.c.subject_id == s.c.id,
            c.c.on_date.between(t.c.starts_on, t.c.ends_on),
        )
        return stmt.scalar_subquery()

    def _members(self) -> FromClause:
        """One line per pupil in the class during the term: from their first day, until the
        end of their latest stay (a pupil who left and came back keeps one line)."""
        k, t = self.k, self.t
        m = ClassMembership.__table__.alias("gb_member")
        return (
            select(
                m.c.pupil_id,
                func.min(m.c.since).label("since"),
                func.array_agg(aggregate_order(m.c.until, m.c.since.desc()), type_=ARRAY(Date))[
                    1
                ].label("until"),
            )
            .where(
                m.c.class_group_id == k.c.id,
                m.c.since <= t.c.ends_on,
                or_(m.c.until.is_(None), m.c.until > t.c.starts_on),
            )
            .group_by(m.c.pupil_id)
            .correlate(k, t)
            .lateral("gb_members")
        )

    def _term_marks(self, builder: Builder, lists: dict[str, Sequence[FieldNode]]) -> FromClause:
        """The term's current marks of the class in the subject, read once and grouped by
        pupil: each selected list of marks (by its key), and what the result rule needs."""
        k, t, s = self.k, self.t, self.s
        mk = Mark.__table__.alias("gb_mark")
        weight = case(
            *[
                (mk.c.work == work, literal_column(str(w)))
                for work, w in lms_service.RESULT_WEIGHTS.items()
            ],
            else_=literal_column("1"),
        )
        columns = [
            mk.c.pupil_id,
            func.count(mk.c.value).label("valued"),
            func.sum(mk.c.value * weight).label("total"),
            func.sum(case((mk.c.value.is_not(None), weight))).label("weight"),
        ]
        for key, nodes in lists.items():
            element = _plain(builder, "Mark", MARK, mk, nodes)
            columns.append(json_list(element, mk.c.on_date, mk.c.id).label(f"marks_{key}"))
        return (
            select(*columns)
            .where(
                mk.c.academic_year_id == k.c.academic_year_id,
                mk.c.class_group_id == k.c.id,
                mk.c.subject_id == s.c.id,
                mk.c.on_date.between(t.c.starts_on, t.c.ends_on),
                mk.c.superseded_at.is_(None),
            )
            .group_by(mk.c.pupil_id)
            .correlate(k, t, s)
            .lateral("gb_marks")
        )

    def computed(self, marks: FromClause) -> ColumnElement[Any]:
        """The declared rule (:func:`resolvers.lms.computed_result`) in SQL: the weighted mean
        of the current marks with a value, tests and written work counting twice, rounded half
        up (``round`` on numeric rounds halves away from zero, as ROUND_HALF_UP does), once
        there are the school's policy's minimum of marks; none for descriptive grades."""
        k, r = self.k, self.r
        minimum = (
            select(LmsPolicy.min_marks_for_result)
            .where(
                or_(
                    LmsPolicy.institution_id == k.c.institution_id,
                    LmsPolicy.institution_id.is_(None),
                )
            )
            .order_by(LmsPolicy.institution_id.is_(None))
            .limit(1)
            .scalar_subquery()
        )
        mean = func.round(cast(marks.c.total, Numeric) / marks.c.weight)
        return case(
            (r.c.scheme == AssessmentScheme.DESCRIPTIVE, null()),
            (func.coalesce(marks.c.valued, 0) < minimum, null()),
            else_=cast(mean, Integer),
        )

    def _term_absences(self, builder: Builder, lists: dict[str, Sequence[FieldNode]]) -> Any:
        """The term's absences in the subject's lessons, grouped by pupil, in lesson order."""
        k, t, s = self.k, self.t, self.s
        c = ClassLesson.__table__.alias("gb_absent_lesson")
        a = Attendance.__table__.alias("gb_absence")
        columns = [a.c.pupil_id]
        for key, nodes in lists.items():
            element = _plain(builder, "Absence", ABSENCE, a, nodes)
            columns.append(
                json_list(element, c.c.on_date, c.c.starts_minute, c.c.id).label(f"absent_{key}")
            )
        return (
            select(*columns)
            .select_from(c)
            .join(a, and_(a.c.academic_year_id == c.c.academic_year_id, a.c.lesson_id == c.c.id))
            .where(
                c.c.academic_year_id == k.c.academic_year_id,
                c.c.class_group_id == k.c.id,
                c.c.subject_id == s.c.id,
                c.c.on_date.between(t.c.starts_on, t.c.ends_on),
            )
            .group_by(a.c.pupil_id)
            .correlate(k, t, s)
            .lateral("gb_absences")
        )

    def override(self, p: FromClause) -> FromClause:
        k, t, s = self.k, self.t, self.s
        o = ResultOverride.__table__.alias("gb_override")
        return (
            select(o)
            .where(
                o.c.class_group_id == k.c.id,
                o.c.subject_id == s.c.id,
                o.c.pupil_id == p.c.pupil_id,
                o.c.period == t.c.number,
                o.c.superseded_at.is_(None),
            )
            .correlate(k, t, s, p)
            .lateral("gb_set")
        )

    # long: one branch per field of a pupil's line, each a line or two.
    def rows(self, builder: Builder, nodes: Sequence[FieldNode]) -> ColumnElement[Any]:
        p = self._members()
        selected = builder.fields.collect("GradebookRow", nodes)
        by_name: dict[str, dict[str, Sequence[FieldNode]]] = {}
        for key, sub in selected.items():
            by_name.setdefault(sub[0].name.value, {})[key] = sub
        o = self.override(p) if by_name.keys() & {"override", "result"} else None
        needs_marks = by_name.keys() & {"marks", "computedResult", "result"}
        mb = self._term_marks(builder, by_name.get("marks", {})) if needs_marks else None
        ab = self._term_absences(builder, by_name["absences"]) if "absences" in by_name else None
        computed = self.computed(mb) if mb is not None else None
        empty = json_text(lit("[]"))
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, sub in selected.items():
            name = sub[0].name.value
            if name == "__typename":
                pairs.append((key, json_string("GradebookRow")))
            elif name == "inClassSince":
                pairs.append((key, p.c.since))
            elif name == "leftClassOn":
                pairs.append((key, p.c.until))
            elif name == "computedResult":
                assert computed is not None
                pairs.append((key, computed))
            elif name == "result":
                assert computed is not None
                assert o is not None
                pairs.append((key, case((o.c.id.is_not(None), o.c.value), else_=computed)))
            elif name == "override":
                assert o is not None
                plain = _plain(builder, "ResultOverride", OVERRIDE, o, sub)
                pairs.append((key, json_text(case((o.c.id.is_(None), lit("null")), else_=plain))))
            elif name == "pupil":
                pairs.append(
                    (key, builder.person_by(lambda q: q.c.id == p.c.pupil_id, sub, correlate=p))
                )
            elif name == "marks":
                assert mb is not None
                pairs.append((key, json_text(func.coalesce(mb.c[f"marks_{key}"], empty))))
            elif name == "absences":
                assert ab is not None
                pairs.append((key, json_text(func.coalesce(ab.c[f"absent_{key}"], empty))))
        stmt = select(json_list(json_object(pairs), p.c.pupil_id)).select_from(p)
        if mb is not None:
            stmt = stmt.outerjoin(mb, mb.c.pupil_id == p.c.pupil_id)
        if ab is not None:
            stmt = stmt.outerjoin(ab, ab.c.pupil_id == p.c.pupil_id)
        if o is not None:
            stmt = stmt.outerjoin(o, true())
        return stmt.scalar_subquery()


def aggregate_order(expr: Any, *order: Any) -> Any:
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return aggregate_order_by(expr, *order)
