"""The compiled feed (issue 16): a signed-in learner's ``myLearning`` in one statement,
PostgreSQL writing the JSON of the whole selection.

The resolvers' answer (``schema/content/learning.py`` over :mod:`resolvers.content.feed`) takes
five statements: the placement, the school, the next lessons, the progress page and its
lessons (and its count). Here the same parts are SQL of one statement, built from the same
functions: the placement (:func:`resolvers.content.placement_sql`), the next lessons
(:func:`resolvers.content.next_lessons_select`), the progress rows
(:func:`resolvers.content.progress_query`, in :data:`resolvers.content.PROGRESS_ORDERINGS`'s
order) and the lessons they name under the lesson rule
(:func:`resolvers.content.rules.lesson_visible`). The term is worked out by PostgreSQL from
today's date when the statement runs (:func:`resolvers.content.today_sql`: the class's
calendar, else the date's quarter), never written into the kept statement; so is the day up
to which the class's recorded lessons say which unit it is on. The class (the LMS's class
group of the pupil's open membership, its language and its academic year) is part of the
placement's row, read in SQL from the caller's person like the rest.

**The caller.** The feed reads one key of its caller: their person. It enters the statement
in one place, :func:`_caller` (a one-row table ``feed_caller(person_id)`` holding the person
as a bind argument); every other part reads ``feed_caller.person_id``. Whether there is a
person decides the shape (none: the field is null, as the resolvers answer). Anonymous
callers (the resolvers' UNAUTHENTICATED) and partners' keys take the resolvers.

A learner's open courses (``courseEnrollments``) are written by
:mod:`schema.compiled.open_courses` over the caller's person; a page asking for nothing else
(MyCourses) reads no placement.

Fields the compiler does not know here (a progress's cursors or
``edges``, a page after a cursor, a lesson's media ...) make the whole request take the
resolvers. ``tests/content/test_compiled_feed.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
)

from models import CurriculumStandard as CurriculumStandardEnum
from models import Language as LanguageEnum
from models import ProgressStatus
from resolvers import content as content_service
from resolvers.content.rules import lesson_visible
from resolvers.errors import DomainError
from resolvers.relay import Ordering
from schema.compiled.plan import Unsupported
from schema.compiled.sql import (
    NULL_JSON,
    decimal_json,
    enum_json,
    json_list,
    json_object,
    json_raw,
    json_string,
    json_text,
    lit,
)

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

Column = Callable[[FromClause], ColumnElement[Any]]


def utc_timestamp_json(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``timestamptz`` as the resolvers write it: Python's ``isoformat`` of what asyncpg
    reads, which is always in UTC (six digits of microseconds unless they are zero, then
    ``+00:00``), whatever the session's time zone."""
    utc = func.timezone(lit("UTC"), col)
    fraction = case(
        (extract("microseconds", utc) % 1000000 == 0, lit("")),
        else_=func.to_char(utc, lit(".US")),
    )
    text_ = func.concat(func.to_char(utc, lit('YYYY-MM-DD"T"HH24:MI:SS')), fraction, lit("+00:00"))
    return json_text(case((col.is_(None), lit("null")), else_=cast(func.to_json(text_), Text)))


def _timestamp(name: str) -> Column:
    return lambda src: utc_timestamp_json(src.c[name])


def _col(name: str) -> Column:
    return lambda src: src.c[name]


PROGRESS: dict[str, Column] = {
    "status": lambda src: enum_json(ProgressStatus, src.c.status),
    "attempts": _col("attempts"),
    "secondsSpent": _col("seconds_spent"),
    "bestScore": decimal_json("best_score"),
    "startedAt": _timestamp("started_at"),
    "completedAt": _timestamp("completed_at"),
    "updatedAt": _timestamp("updated_at"),
}
FEED_SCALARS = {"grade", "language", "term", "standard"}
CONNECTION_FIELDS = {"totalCount", "nodes", "pageInfo", "__typename"}
PAGE_INFO_FIELDS = {"hasNextPage", "hasPreviousPage", "__typename"}


# --- the static check ------------------------------------------------------------------------


# On: with its statement kept, a feed costs ~5 ms of CPU against the resolvers' ~23 ms
# (docs/performance.md, "The feed on the compiled path"). It pays for every pupil once the
# compiled path keeps one statement per role rather than per caller (the caller's keys as
# arguments); without that, each pupil's first feed builds a statement (~40 ms of hub CPU),
# and this flag is the way back to the resolvers.
ENABLED = True


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under ``myLearning`` have a compiled form here?"""
    if not ENABLED:
        raise Unsupported("the compiled feed is off")
    for _key, sub in shape.fields.collect("MyLearning", nodes).items():
        name = sub[0].name.value
        if name == "__typename" or name in FEED_SCALARS:
            continue
        if name == "school":
            shape.check_object("Institution", sub)
        elif name == "nextLessons":
            shape.check_object("Lesson", sub)
        elif name == "progress":
            _check_progress(shape, sub)
        elif name == "courseEnrollments":
            from schema.compiled.open_courses import check_enrollments

            check_enrollments(shape, sub)
        else:
            raise Unsupported(f"MyLearning.{name}")


def _check_progress(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    for _key, sub in shape.fields.collect("LessonProgressConnection", nodes).items():
        name = sub[0].name.value
        if name not in CONNECTION_FIELDS:
            raise Unsupported(f"progress.{name}")
        if name == "pageInfo":
            for _k, info in shape.fields.collect("PageInfo", sub).items():
                if info[0].name.value not in PAGE_INFO_FIELDS:
                    raise Unsupported("progress.pageInfo")
        elif name == "nodes":
            for _k, field in shape.fields.collect("LessonProgress", sub).items():
                fname = field[0].name.value
                if fname == "lesson":
                    shape.check_object("Lesson", field)
                elif fname != "__typename" and fname not in PROGRESS:
                    raise Unsupported(f"LessonProgress.{fname}")


# --- the statement ---------------------------------------------------------------------------


def _caller(builder: Builder) -> FromClause | None:
    """The one place the feed reads its caller: a one-row table ``feed_caller`` whose
    ``person_id`` is the caller's person, a bind argument of the statement (None: a caller
    without a person, whose feed is null)."""
    person_id = builder.principal.person_id
    if person_id is None:
        return None
    person = bindparam("feed_person", person_id, type_=Integer)
    return select(person.label("person_id")).subquery("feed_caller")


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """The feed's JSON, or null for a caller without a person."""
    principal = builder.principal
    if principal.is_anonymous or principal.grant is not None:
        raise Unsupported("anonymous or partner")  # the resolvers' errors and field rules
    args = builder.args("Query", nodes[0])
    language = args.get("language")
    try:
        wanted = content_service.lesson_language(language.value) if language else None
    except DomainError:
        raise Unsupported("language") from None  # the resolvers' typed error
    caller = _caller(builder)
    if caller is None:
        return NULL_JSON
    selected = builder.fields.collect("MyLearning", nodes)
    if all(sub[0].name.value in ("__typename", "courseEnrollments") for sub in selected.values()):
        # The open courses alone (MyCourses) read no placement: the caller's row is enough.
        feed = caller
    else:
        place = content_service.placement_sql(caller, wanted, content_service.today_sql())
        feed = place.subquery("feed")
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in selected.items():
        name = sub[0].name.value
        if name == "courseEnrollments":
            from schema.compiled.open_courses import build_enrollments

            pairs.append((key, build_enrollments(builder, feed, sub)))
        elif name == "__typename":
            pairs.append((key, json_string("MyLearning")))
        elif name == "grade":
            pairs.append((key, feed.c.grade))
        elif name == "term":
            pairs.append((key, feed.c.term))
        elif name == "language":
            pairs.append((key, enum_json(LanguageEnum, feed.c.language)))
        elif name == "standard":
            pairs.append((key, enum_json(CurriculumStandardEnum, feed.c.standard)))
        elif name == "school":
            pairs.append(
                (
                    key,
                    builder.object_by(
                        "Institution",
                        lambda i: i.c.id == feed.c.institution_id,
                        sub,
                        correlate=feed,
                    ),
                )
            )
        elif name == "nextLessons":
            pairs.append((key, _next_lessons(builder, feed, sub)))
        elif name == "progress":
            pairs.append((key, _progress(builder, feed, sub)))
        else:
            raise Unsupported(name)
    return select(json_object(pairs)).select_from(feed).scalar_subquery()


def _next_lessons(
    builder: Builder, feed: FromClause, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """Per subject, the next lesson (the resolvers' statement, on the feed's columns), in
    subject order as ``DISTINCT ON`` returns them."""
    args = builder.args("MyLearning", nodes[0])
    code = None
    if args.get("subject") is not None:
        known = content_service.known_subject_codes()
        if known is None:
            raise Unsupported("subjects not read yet")  # the resolvers read them once
        try:
            code = content_service.subject_code(args["subject"], known)
        except DomainError:
            raise Unsupported("subject") from None  # the resolvers' typed error
    # The class's columns are null without a class: its positions are then empty and every
    # subject starts at the term, as the resolvers' statement without a class does.
    stmt = content_service.next_lessons_select(
        feed.c.person_id,
        feed.c.grade,
        feed.c.language,
        term=feed.c.term,
        subject_code=code,
        standard=feed.c.standard,
        class_group=feed.c.class_group_id,
        academic_year=feed.c.academic_year_id,
        membership=feed.c.membership_id,
        today=content_service.today_sql(),
    )
    # The resolvers send no statement for a grade outside 1-12; here it finds nothing.
    lessons = stmt.where(feed.c.grade.between(1, 12)).correlate(feed).subquery("feed_next")
    element = builder.object_json("Lesson", lessons, nodes)
    return (
        select(json_list(element, lessons.c.subject_code))
        .select_from(lessons)
        .correlate(feed)
        .scalar_subquery()
    )


def _progress(builder: Builder, feed: FromClause, nodes: Sequence[FieldNode]) -> ColumnElement[Any]:
    """The progress connection: the resolvers' rows and order, a first page (no cursor)."""
    from schema.common import bounds

    args = builder.args("MyLearning", nodes[0])
    page_args = bounds(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
    if page_args.after is not None or page_args.last is not None or page_args.before is not None:
        raise Unsupported("progress after a cursor")
    stmt = content_service.progress_query(feed.c.person_id, args.get("status")).correlate(feed)
    ordering: Ordering = content_service.PROGRESS_ORDERINGS["RECENT"]
    # One row past the page says whether more follow.
    page = stmt.order_by(*ordering.clauses()).limit(page_args.size + 1).subquery("feed_progress")
    on_page = Ordering(tuple((page.c[col.key], desc) for col, desc in ordering.keys))
    numbered = select(
        *page.c, func.row_number().over(order_by=on_page.clauses()).label("n")
    ).subquery("feed_progress_n")
    in_page = numbered.c.n <= page_args.size
    in_order = [numbered.c.n]
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect("LessonProgressConnection", nodes).items():
        name = sub[0].name.value
        if name == "__typename":
            pairs.append((key, json_string("LessonProgressConnection")))
        elif name == "totalCount":
            counted = select(func.count()).select_from(stmt.order_by(None).subquery())
            pairs.append((key, counted.correlate(feed).scalar_subquery()))
        elif name == "nodes":
            element = _progress_json(builder, numbered, sub)
            rows = select(json_list(element, *in_order)).where(in_page).select_from(numbered)
            pairs.append((key, rows.correlate(feed).scalar_subquery()))
        elif name == "pageInfo":
            more = select(func.count()).select_from(numbered).where(~in_page)
            pairs.append((key, _page_info(builder, sub, more.correlate(feed).scalar_subquery())))
    return json_object(pairs)


def _page_info(
    builder: Builder, nodes: Sequence[FieldNode], beyond: ColumnElement[int]
) -> ColumnElement[Any]:
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect("PageInfo", nodes).items():
        name = sub[0].name.value
        if name == "__typename":
            pairs.append((key, json_string("PageInfo")))
        elif name == "hasNextPage":
            pairs.append((key, beyond > literal_column("0", Integer)))
        elif name == "hasPreviousPage":
            pairs.append((key, json_raw("false")))  # a first page
    return json_object(pairs)


def _progress_json(
    builder: Builder, src: FromClause, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect("LessonProgress", nodes).items():
        name = sub[0].name.value
        if name == "__typename":
            pairs.append((key, json_string("LessonProgress")))
        elif name == "lesson":
            pairs.append((key, _lesson_of(builder, src, sub)))
        else:
            pairs.append((key, PROGRESS[name](src)))
    return json_object(pairs)


def _lesson_of(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> ColumnElement[Any]:
    """A progress row's lesson as the resolvers' ``LessonByIdLoader`` reads it: under the
    lesson rule, null when the caller may not read it."""
    principal = builder.principal
    return builder.object_by(
        "Lesson",
        lambda lesson: and_(lesson.c.id == src.c.lesson_id, lesson_visible(principal, lesson.c)),
        nodes,
        correlate=src,
    )
