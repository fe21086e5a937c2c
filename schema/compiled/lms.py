"""The school LMS's pages compiled (issue 21): a teacher's day (``teacherDay``), the weekly
timetable of a class, teacher or room (``timetable``), a school's classes (``classGroups``)
and the counsellors' concern reports (``concernReports``), each in one statement, PostgreSQL
writing the JSON the resolvers write (``schema/lms/queries.py``, ``records.py``, ``types.py``,
``concerns.py``).

The lists are the resolvers' own statements (:func:`resolvers.lms.teacher_day_query`,
:func:`resolvers.lms.timetable_query`, :func:`resolvers.lms.class_groups_query`,
:func:`resolvers.lms.concern_reports_query`), with the caller's row rules in them, paged as
the resolvers page them; every relation is read under the rule its DataLoader applies (a
class, a slot and a lesson under :func:`resolvers.lms.class_readable`, a teacher under the
person rule; subjects, rooms, homework, regions, districts and a report's events have none).
The day the pages read when no ``on`` is given is Bishkek's today worked out by PostgreSQL
(a kept statement must not carry the day it was built on).

What the resolvers decide in Python is decided here the same way: a caller who may not ask
(anonymous, a partner's key, anyone but a counsellor for the reports), an ID of another type
or not one at all, a timetable asked for none or two of class, teacher and room, all take the
resolvers, which answer with their error. A teacher asking for another teacher's day reads
``[]``: the two keys are compared in SQL, both arguments of the statement (one kept statement
serves every teacher). Fields not described here (a class's pupils or subjects, a lesson's
marks, register or absences, a homework's submissions ...) make the whole request take the
resolvers. ``tests/lms/test_compiled_lms_pages.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, Date, FromClause, Integer, literal, select

from models import (
    ClassGroup,
    ClassLesson,
    ConcernCategory,
    ConcernReportEvent,
    ConcernStatus,
    CurriculumModel,
    Homework,
    Language,
    Room,
    Subject,
    TimetableSlot,
)
from resolvers import lms as lms_service
from resolvers.access import Role
from schema.compiled.gradebook import CLASS_GROUP, LESSON, SUBJECT, _clock, _id
from schema.compiled.plan import Unsupported
from schema.compiled.sql import adapt, json_list, json_raw
from schema.compiled.workflow import (
    TODAY,
    Kind,
    Relation,
    check_connection,
    col,
    connection,
    enum_of,
    institution,
    many,
    no_partners,
    pk_of,
    timestamp,
)

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("teacherDay", "timetable", "concernReports", "classGroups")


# --- relations read under their loader's rule ------------------------------------------------


def _by_key(
    kind: Callable[[], Kind],
    table: Any,
    key: str,
    rule: Callable[[Builder], ColumnElement[bool]] | None = None,
    year: bool = False,
) -> Relation:
    """The row of ``table`` whose id is the parent's ``key`` (null when none, or when
    ``rule``, a condition on ``table`` as the loader states it, does not let the caller read
    it). ``year``: a table partitioned by academic year, whose key is (year, id); the parent's
    ``academic_year_id`` is the row's, so the lookup goes to one partition's key."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        row = table.alias()
        where = [row.c.id == src.c[key]]
        if year:
            where.append(row.c.academic_year_id == src.c.academic_year_id)
        if rule is not None:
            where.append(adapt(rule(builder), row))
        stmt = select(kind().json(builder, row, nodes)).where(*where).correlate(src)
        return stmt.scalar_subquery()

    return Relation(lambda shape, nodes: kind().check(shape, nodes), build)


def _person(key: str) -> Relation:
    """The person in the parent's ``key`` under the person rule (``PersonByIdLoader``'s)."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        return builder.person_by(lambda p: p.c.id == src.c[key], nodes, correlate=src)

    return Relation(lambda shape, nodes: shape.check_object("Person", nodes), build)


def _geography(type_name: str, key: str) -> Relation:
    """A region or district (public), written by the registry's compiled form."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        return builder.object_by(type_name, lambda g: g.c.id == src.c[key], nodes, correlate=src)

    return Relation(lambda shape, nodes: shape.check_object(type_name, nodes), build)


def _class_rule(builder: Builder) -> ColumnElement[bool]:
    """``ClassGroupByIdLoader``'s rule."""
    return lms_service.class_readable(builder.principal)


def _slot_rule(builder: Builder) -> ColumnElement[bool]:
    """``TimetableSlotByIdLoader``'s rule: the slot's class is readable."""
    return lms_service.of_readable_class(builder.principal, TimetableSlot.class_group_id)


def _lesson_rule(builder: Builder) -> ColumnElement[bool]:
    """``LessonByIdLoader``'s rule: the lesson's class is readable."""
    return lms_service.of_readable_class(builder.principal, ClassLesson.class_group_id)


# --- the types -------------------------------------------------------------------------------


def _subject() -> Kind:
    return SUBJECT_KIND


def _class_group() -> Kind:
    return CLASS_GROUP_KIND


def _room() -> Kind:
    return ROOM_KIND


def _slot() -> Kind:
    return SLOT_KIND


def _lesson() -> Kind:
    return LESSON_KIND


def _homework() -> Kind:
    return HOMEWORK_KIND


SUBJECT_KIND = Kind("Subject", SUBJECT)
CLASS_GROUP_KIND = Kind(
    "ClassGroup",
    {
        **CLASS_GROUP,
        "language": enum_of(Language, "language"),
        "curriculumModel": enum_of(CurriculumModel, "curriculum_model"),
    },
    {
        "school": institution("institution_id"),
        "homeroomTeacher": _person("homeroom_teacher_id"),
    },
)
ROOM_KIND = Kind("Room", {"id": _id("Room"), "name": col("name"), "capacity": col("capacity")})
SUBJECT_OF = _by_key(_subject, Subject.__table__, "subject_id")
CLASS_OF = _by_key(_class_group, ClassGroup.__table__, "class_group_id", _class_rule)
ROOM_OF = _by_key(_room, Room.__table__, "room_id")
SLOT_KIND = Kind(
    "TimetableSlot",
    {
        "id": _id("TimetableSlot"),
        "weekday": col("weekday"),
        "period": col("period"),
        "startsAt": _clock("starts_minute"),
        "endsAt": _clock("ends_minute"),
        "subgroup": col("subgroup"),
        "validFrom": col("valid_from"),
        "validTo": col("valid_to"),
    },
    {
        "classGroup": CLASS_OF,
        "subject": SUBJECT_OF,
        "teacher": _person("teacher_id"),
        "room": ROOM_OF,
    },
)
HOMEWORK_KIND = Kind(
    "Homework",
    {
        "id": _id("Homework"),
        "text": col("body"),
        "assignedOn": col("assigned_on"),
        "dueOn": col("due_on"),
        "acceptsSubmissions": col("accepts_submissions"),
    },
    {"subject": SUBJECT_OF},
)


def _first_homework() -> Relation:
    """``HomeworkByLessonLoader``'s first row (by id): the homework a lesson set."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        h = Homework.__table__.alias()
        stmt = (
            select(HOMEWORK_KIND.json(builder, h, nodes))
            # (year, lesson) is unique and the key of its foreign key to the lesson
            .where(h.c.academic_year_id == src.c.academic_year_id, h.c.lesson_id == src.c.id)
            .order_by(h.c.id)
            .limit(1)
            .correlate(src)
        )
        return stmt.scalar_subquery()

    return Relation(lambda shape, nodes: HOMEWORK_KIND.check(shape, nodes), build)


LESSON_KIND = Kind(
    "ClassLesson",
    LESSON,
    {
        "homework": _first_homework(),
        "subject": SUBJECT_OF,
        "classGroup": CLASS_OF,
        "slot": _by_key(_slot, TimetableSlot.__table__, "slot_id", _slot_rule),
        "teacher": _person("teacher_id"),
        "replacedTeacher": _person("replaced_teacher_id"),
    },
)


def _day(on: date | ColumnElement[Any]) -> Callable[[FromClause], ColumnElement[Any]]:
    if isinstance(on, date):
        return lambda src: literal(on, Date)
    return lambda src: on


def _teacher_lesson(on: date | ColumnElement[Any]) -> Kind:
    """A row of the teacher's day (``TeacherLesson``): the slot's time, its relations, and the
    lesson recorded in it, which is read by its key under ``LessonByIdLoader``'s rule."""
    return Kind(
        "TeacherLesson",
        {
            "date": _day(on),
            "period": col("period"),
            "startsAt": _clock("starts_minute"),
            "endsAt": _clock("ends_minute"),
            "subgroup": col("subgroup"),
        },
        {
            "classGroup": CLASS_OF,
            "subject": SUBJECT_OF,
            "room": ROOM_OF,
            "slot": _by_key(_slot, TimetableSlot.__table__, "slot_id", _slot_rule),
            "lesson": _by_key(_lesson, ClassLesson.__table__, "lesson_id", _lesson_rule, year=True),
        },
    )


EVENT_KIND = Kind(
    "ConcernReportEvent",
    {
        "status": enum_of(ConcernStatus, "status"),
        "note": col("note"),
        "actor": col("actor"),
        "at": timestamp("at"),
    },
)
REPORT_KIND = Kind(
    "ConcernReport",
    {
        "id": _id("ConcernReport"),
        "category": enum_of(ConcernCategory, "category"),
        "text": col("body"),
        "status": enum_of(ConcernStatus, "status"),
        "receivedOn": col("received_on"),
        "reply": col("reply"),
    },
    {
        "region": _geography("Region", "region_id"),
        "district": _geography("District", "district_id"),
        "events": many(
            EVENT_KIND,
            ConcernReportEvent.__table__,
            lambda e, r: e.c.report_id == r.c.id,
            lambda e: [e.c.at, e.c.id],
        ),
    },
)


# --- the static check ------------------------------------------------------------------------


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    root = nodes[0].name.value
    if root == "teacherDay":
        _teacher_lesson(TODAY).check(shape, nodes)
    elif root == "timetable":
        SLOT_KIND.check(shape, nodes)
    elif root == "concernReports":
        check_connection(shape, REPORT_KIND, nodes)
    elif root == "classGroups":
        check_connection(shape, CLASS_GROUP_KIND, nodes)
    else:
        raise Unsupported(root)


# --- the statements --------------------------------------------------------------------------


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    no_partners(builder)  # anonymous callers: the resolvers' UNAUTHENTICATED
    root = nodes[0].name.value
    if root == "teacherDay":
        return _teacher_day(builder, nodes)
    if root == "timetable":
        return _timetable(builder, nodes)
    if root == "concernReports":
        return _concern_reports(builder, nodes)
    if root == "classGroups":
        return _class_groups(builder, nodes)
    raise Unsupported(root)


def _list(
    builder: Builder, kind: Kind, stmt: Any, order: Sequence[str], nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    rows = stmt.order_by(None).subquery()
    element = kind.json(builder, rows, nodes)
    return select(json_list(element, *[rows.c[name] for name in order])).scalar_subquery()


def _teacher_day(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``Query.teacher_day``: the caller's day, or a teacher's of their school for its
    administration; a teacher asking for another's reads ``[]``."""
    principal = builder.principal
    args = builder.args("Query", nodes[0])
    asked = args.get("teacher_id")
    pk = pk_of(asked, "Person") if asked else principal.person_id
    if pk is None:
        return json_raw("[]")
    own_only = bool(asked) and principal.role == Role.TEACHER
    if own_only and principal.person_id is None:
        return json_raw("[]")
    on = args.get("on") or TODAY
    stmt = lms_service.teacher_day_query(principal, pk, on)
    if own_only:
        # Both keys are arguments: the resolvers' ``pk != principal.person_id``, in SQL.
        stmt = stmt.where(literal(pk, Integer) == literal(principal.person_id, Integer))
    return _list(builder, _teacher_lesson(on), stmt, ("starts_minute", "slot_id"), nodes)


def _timetable(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``Query.timetable``: the week's slots of one class, teacher or room it may read."""
    args = builder.args("Query", nodes[0])
    given = {k: args.get(k) for k in ("class_group_id", "teacher_id", "room_id")}
    if sum(v is not None for v in given.values()) != 1:
        raise Unsupported("one of classGroupId, teacherId, roomId")  # INVALID_INPUT
    klass, teacher, room = given["class_group_id"], given["teacher_id"], given["room_id"]
    stmt = lms_service.timetable_query(
        builder.principal,
        class_group_id=pk_of(klass, "ClassGroup") if klass else None,
        teacher_id=pk_of(teacher, "Person") if teacher else None,
        room_id=pk_of(room, "Room") if room else None,
        on=args.get("on") or TODAY,
    )
    order = [c.key for c in lms_service.TIMETABLE_ORDER]
    return _list(builder, SLOT_KIND, stmt, order, nodes)


def _concern_reports(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``Query.concern_reports``: a counsellor's page of the reports routed to them."""
    if not lms_service.is_counsellor(builder.principal):
        raise Unsupported("not a counsellor")  # the resolvers' FORBIDDEN
    args = builder.args("Query", nodes[0])
    stmt = lms_service.concern_reports_query(builder.principal, args.get("status"))
    return connection(builder, REPORT_KIND, nodes, stmt, lms_service.CONCERN_ORDER, args)


def _class_groups(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``Query.class_groups``: a page of the classes the caller may read, filtered."""
    from schema.lms.queries import class_filter

    args = builder.args("Query", nodes[0])
    stmt = lms_service.class_groups_query(builder.principal, class_filter(args.get("filter")))
    return connection(builder, CLASS_GROUP_KIND, nodes, stmt, lms_service.CLASS_ORDER, args)
