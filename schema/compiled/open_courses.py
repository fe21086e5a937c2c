"""The open education portal's pages compiled (issue 21): the course list (``openCourses``),
a course's page (``node`` of an ``OpenCourse``) and a learner's courses
(``myLearning { courseEnrollments }``, written into the feed's statement by
:mod:`schema.compiled.feed`), each one statement, PostgreSQL writing the JSON the resolvers
write (``schema/content/courses.py``).

Courses, their modules, assessments and runs are public (their loaders have no row rule);
a learner's enrollments are their own (``my_course_enrollments_query``), read with each one's
run, course, results and certificate as the loaders read them (by key, no rule: they are
reached through the learner's own enrollment). ``placesLeft`` is computed as the resolvers
compute it (null for an unlimited run, else ``max(0, capacity - enrolled)``), decimals are
PostgreSQL's digits as asyncpg's ``Decimal`` prints them. Partners' keys (their grant decides
field by field) take the resolvers, and so does every field not described here (a list's
``edges``, a page backwards).
``tests/test_compiled_pages_open_courses.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, FromClause, case, func, null, select

from models import (
    AssessmentKind,
    AssessmentResult,
    CourseAssessment,
    CourseCertificate,
    CourseEnrollmentStatus,
    CourseModule,
    CourseRun,
    Language,
    OpenCourse,
    StudyLevel,
)
from resolvers import content as content_service
from schema.compiled.plan import Unsupported
from schema.compiled.sql import adapt_ordering, decimal_json, global_id
from schema.compiled.workflow import (
    Kind,
    Relation,
    check_connection,
    col,
    connection,
    enum_of,
    gid,
    institution,
    many,
    one,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("openCourses",)
NODES = ("OpenCourse",)


def _places_left(src: FromClause) -> ColumnElement[Any]:
    """``None if capacity is None else max(0, capacity - enrolled)``."""
    capacity = src.c.capacity
    return case((capacity.is_(None), null()), else_=func.greatest(0, capacity - src.c.enrolled))


def _stored_gid(src: FromClause) -> ColumnElement[Any]:
    return src.c.gid  # the global ID PostgreSQL keeps with the row


MODULE = Kind(
    "CourseModule",
    {
        "position": col("position"),
        "title": col("title"),
        "summary": col("summary"),
        "hours": decimal_json("hours"),
    },
)

ASSESSMENT = Kind(
    "CourseAssessment",
    {
        "id": gid("CourseAssessment"),
        "position": col("position"),
        "title": col("title"),
        "kind": enum_of(AssessmentKind, "kind"),
        "weight": col("weight"),
        "required": col("required"),
    },
)


def _course_kind() -> Kind:
    return COURSE


RUN = Kind(
    "CourseRun",
    {
        "id": _stored_gid,
        "startsOn": col("starts_on"),
        "endsOn": col("ends_on"),
        "enrollmentClosesOn": col("enrollment_closes_on"),
        "capacity": col("capacity"),
        "enrolled": col("enrolled"),
        "openToAll": col("open_to_all"),
        "passMark": col("pass_mark"),
        "placesLeft": _places_left,
    },
    {
        # CourseRunByIdLoader -> OpenCourseByIdLoader: no rule
        "course": one(_course_kind, OpenCourse.__table__, lambda c, r: c.c.id == r.c.course_id),
    },
)


def _check_runs(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    check_connection(shape, RUN, nodes)


def _runs(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """A course's runs as ``RunsByCourseLoader`` pages them (the earliest first)."""
    from schema.common import bounds

    args = builder.args("OpenCourse", nodes[0])
    page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
    r = CourseRun.__table__.alias("oc_run")
    ordering = adapt_ordering(content_service.RUN_ORDERINGS[args["order_by"].value], r)
    stmt = select(r).where(r.c.course_id == src.c.id)
    return builder.connection(
        "CourseRun",
        list(nodes),
        stmt,
        ordering,
        page,
        correlate=src,
        element=lambda row, sub: RUN.json(builder, row, sub),
    )


COURSE = Kind(
    "OpenCourse",
    {
        "id": _stored_gid,
        "code": col("code"),
        "title": col("title"),
        "description": col("description"),
        "language": enum_of(Language, "language"),
        "level": enum_of(StudyLevel, "level"),
        "credits": decimal_json("credits"),
        "programmeCode": col("programme_code"),
    },
    {
        "institution": institution("institution_id"),
        "modules": many(
            MODULE,
            CourseModule.__table__,
            lambda m, c: m.c.course_id == c.c.id,
            lambda m: [m.c.position],
        ),
        "assessments": many(
            ASSESSMENT,
            CourseAssessment.__table__,
            lambda a, c: a.c.course_id == c.c.id,
            lambda a: [a.c.position],
        ),
        "runs": Relation(_check_runs, _runs),
    },
)


# --- a learner's enrollments (MyCourses) ---------------------------------------------------

RESULT = Kind(
    "AssessmentResult",
    {
        "assessmentId": lambda src: global_id("CourseAssessment", src.c.assessment_id),
        "score": decimal_json("score"),
    },
)


CERTIFICATE = Kind(
    "CourseCertificate",
    {
        "id": _stored_gid,
        "number": col("number"),
        "issuedOn": col("issued_on"),
        "revokedOn": col("revoked_on"),
    },
)

ENROLLMENT = Kind(
    "CourseEnrollment",
    {
        "id": _stored_gid,
        "status": enum_of(CourseEnrollmentStatus, "status"),
        "finalScore": decimal_json("final_score"),
        "completedOn": col("completed_on"),
        "recognisedCredits": decimal_json("recognised_credits"),
        "recognisedOn": col("recognised_on"),
    },
    {
        "run": one(RUN, CourseRun.__table__, lambda r, e: r.c.id == e.c.run_id),
        # ResultsByCourseEnrollmentLoader's order
        "results": many(
            RESULT,
            AssessmentResult.__table__,
            lambda a, e: a.c.enrollment_id == e.c.id,
            lambda a: [a.c.assessment_id],
        ),
        "certificate": one(
            CERTIFICATE, CourseCertificate.__table__, lambda c, e: c.c.enrollment_id == e.c.id
        ),
        "recognisedBy": institution("recognised_by_institution_id"),
    },
)


def check_enrollments(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """``MyLearning.courseEnrollments``: does every field have a compiled form here?"""
    check_connection(shape, ENROLLMENT, nodes)


def build_enrollments(
    builder: Builder, learner: FromClause, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """The learner's enrollments (``learner.c.person_id``), the latest first, paged as the
    resolvers' ``Listing`` pages them."""
    from schema.common import bounds

    args = builder.args("MyLearning", nodes[0])
    page = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
    stmt = content_service.my_course_enrollments_query(learner.c.person_id)
    return builder.connection(
        "CourseEnrollment",
        list(nodes),
        stmt,
        content_service.MY_ENROLLMENT_ORDERING,
        page,
        correlate=learner,
        element=lambda row, sub: ENROLLMENT.json(builder, row, sub),
    )


# --- the roots --------------------------------------------------------------------------------


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """``openCourses``: does every field under it have a compiled form here?"""
    check_connection(shape, COURSE, nodes)


def check_node(shape: _Shape, type_name: str, nodes: Sequence[FieldNode]) -> None:
    """``node``'s selection as an ``OpenCourse`` (``id`` is the Node's)."""
    COURSE.check(shape, nodes)


def _no_partners(builder: Builder) -> None:
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``openCourses``: public, as ``schema/content/queries.py`` reads its filter."""
    _no_partners(builder)
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    stmt = content_service.open_courses_query(
        content_service.CourseFilter(
            # a bad ID: the resolvers' error
            institution_id=query_pk(flt.institution_id, "Institution")
            if flt is not None and flt.institution_id
            else None,
            language=flt.language.value if flt is not None and flt.language else None,
            level=flt.level if flt is not None else None,
            programme_code=flt.programme_code.strip().upper()
            if flt is not None and flt.programme_code
            else None,
        )
    )
    ordering = content_service.COURSE_ORDERINGS[args["order_by"].value]
    return connection(builder, COURSE, nodes, stmt, ordering, args)


def build_node(
    builder: Builder, type_name: str, pk: int, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """An ``OpenCourse`` by key (null when there is none, as ``OpenCourseByIdLoader``)."""
    _no_partners(builder)
    course = OpenCourse.__table__.alias("oc_course")
    return select(COURSE.json(builder, course, nodes)).where(course.c.id == pk).scalar_subquery()
