"""Learning content's pages compiled (issue 21): a lesson's page (``node(id:)`` of a Lesson:
its text, subject, curriculum topic, media with signed links, TV slots, quiz, history and the
caller's progress), the curriculum (``curriculumUnits``) and the lesson lists' other fields
(an editor's review list: ``lessons`` with media and history), PostgreSQL writing the JSON the
resolvers write (``schema/content/types.py``).

**The caller** is read in four places: the lesson rule (:func:`resolvers.content.rules.
lesson_visible`, on the node's lesson; the lists' rule is ``lessons_query``'s, the builder's),
the history (:func:`resolvers.content.rules.may_edit_lessons`: editors read it, others an empty
list, as ``RevisionsByLessonLoader``), and ``myProgress`` (the caller's person as a bind
argument; none: null, as ``MyProgressByLessonLoader``). Partners' keys take the resolvers
(their key decides field by field).

**Signed links.** ``LessonMedia.url`` is a link signed by the hub with an expiry from the
moment it is made; the statement cannot sign it (the key stays out of the database) nor know
the time the answer leaves, so it writes what the link names between markers and the hub
signs it as the answer passes (:mod:`schema.compiled.links`), with the resolvers' function.

Fields not described here (``CurriculumUnit.lessons``, a progress's ``lesson`` ...) make the
request take the resolvers. ``tests/content/test_compiled_pages_content.py`` compares both
paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION as Float

from models import (
    CurriculumStandard,
    CurriculumUnit,
    Lesson,
    LessonAction,
    LessonBroadcast,
    LessonMedia,
    LessonProgress,
    LessonRevision,
    LessonStatus,
    MediaKind,
    QuestionKind,
    QuizQuestion,
)
from resolvers import content as content_service
from resolvers.content.rules import lesson_visible, may_edit_lessons
from resolvers.errors import DomainError
from schema.compiled.feed import PROGRESS, utc_timestamp_json
from schema.compiled.links import unsigned_link
from schema.compiled.plan import Unsupported, _languages
from schema.compiled.sql import NULL_JSON, decimal_json, json_list, json_text, lit
from schema.compiled.workflow import (
    Kind,
    Relation,
    check_connection,
    col,
    connection,
    enum_of,
    gid,
    many,
    one,
)

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("curriculumUnits",)


def utc_timestamp(name: str) -> Any:
    return lambda src: utc_timestamp_json(src.c[name])


def _text_array(name: str) -> Any:
    """A ``varchar[]`` as a JSON list of strings (``to_json``: the strings' escapes the
    compiled path writes everywhere)."""
    return lambda src: json_text(cast(func.to_json(src.c[name]), Text))


def byte_count(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``bigint`` count of bytes as the resolvers write it: a Python float (``ByteCount``)
    through orjson, which writes what ``repr`` writes: ``n.0`` below 10^16 (the double nearest
    ``n``, exact below 2^53), else the shortest exponent form (``1e+16``), which is PostgreSQL's
    text of a double there too."""
    double = cast(value, Float)
    whole = cast(cast(double, BigInteger), Text).op("||")(lit(".0"))
    return json_text(case((value < 10**16, whole), else_=cast(double, Text)))


def _subject(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    return builder.object_by(
        "Subject", lambda s: s.c.code == src.c.subject_code, nodes, correlate=src
    )


SUBJECT = Relation(lambda shape, nodes: shape.check_object("Subject", nodes), _subject)

UNIT = Kind(
    "CurriculumUnit",
    {
        "id": gid("CurriculumUnit"),
        "standard": enum_of(CurriculumStandard, "standard"),
        "subjectCode": col("subject_code"),
        "grade": col("grade"),
        "term": col("term"),
        "unitNo": col("unit_no"),
        "unitTitle": col("unit_title"),
        "topicNo": col("topic_no"),
        "topicTitle": col("topic_title"),
        "outcomes": _text_array("outcomes"),
        "hours": decimal_json("hours"),
        "languages": _languages,
    },
    {"subject": SUBJECT},
)


def _url(src: FromClause) -> ColumnElement[Any]:
    """``LessonMedia.url``: signed by the hub (:mod:`schema.compiled.links`) under the name
    ``lesson-<lesson>-<kind>-<rendition>``."""
    name = func.concat(
        lit("lesson-"), src.c.lesson_id, lit("-"), cast(src.c.kind, Text), lit("-"), src.c.rendition
    )
    return unsigned_link(src.c.sha256, name, src.c.media_type)


MEDIA = Kind(
    "LessonMedia",
    {
        "kind": enum_of(MediaKind, "kind"),
        "rendition": col("rendition"),
        "sizeBytes": lambda m: byte_count(m.c.size_bytes),
        "mediaType": col("media_type"),
        "height": col("height"),
        "bitrateKbps": col("bitrate_kbps"),
        "title": col("title"),
        "sha256": col("sha256"),
        "url": _url,
    },
)
BROADCAST = Kind("LessonBroadcast", {"channel": col("channel"), "airsAt": utc_timestamp("airs_at")})
QUESTION = Kind(
    "QuizQuestion",
    {
        "id": gid("QuizQuestion"),
        "position": col("position"),
        "kind": enum_of(QuestionKind, "kind"),
        "prompt": col("prompt"),
        "choices": _text_array("choices"),
        "points": col("points"),
    },
)
REVISION = Kind(
    "LessonRevision",
    {
        "version": col("version"),
        "action": enum_of(LessonAction, "action"),
        "status": enum_of(LessonStatus, "status"),
        "actor": col("actor"),
        "note": col("note"),
        "at": utc_timestamp("at"),
    },
)
PROGRESS_KIND = Kind("LessonProgress", PROGRESS)

BROADCASTS = many(
    BROADCAST,
    LessonBroadcast.__table__,
    lambda b, lesson: b.c.lesson_id == lesson.c.id,
    lambda b: [b.c.airs_at, b.c.id],
)
QUIZ = many(
    QUESTION,
    QuizQuestion.__table__,
    lambda q, lesson: q.c.lesson_id == lesson.c.id,
    lambda q: [q.c.position],
)
LESSON_UNIT = one(UNIT, CurriculumUnit.__table__, lambda u, lesson: u.c.id == lesson.c.unit_id)


def _media(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``MediaByLessonLoader``'s rows and order, of the kind asked for."""
    kind = builder.args("Lesson", nodes[0]).get("kind")
    m = LessonMedia.__table__.alias()
    where = [m.c.lesson_id == src.c.id]
    if kind is not None:
        where.append(m.c.kind == kind)
    element = MEDIA.json(builder, m, nodes)
    order = [m.c.kind, m.c.height, m.c.rendition]
    return select(json_list(element, *order)).where(*where).correlate(src).scalar_subquery()


def _history(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``RevisionsByLessonLoader``: lesson editors read it, others an empty list."""
    editor = may_edit_lessons(builder.principal)
    r = LessonRevision.__table__.alias()
    element = REVISION.json(builder, r, nodes)
    return (
        select(json_list(element, r.c.version))
        .where(r.c.lesson_id == src.c.id, true() if editor else false())
        .correlate(src)
        .scalar_subquery()
    )


def _my_progress(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``MyProgressByLessonLoader``: the caller's own row (the person a bind argument), null
    without a person or progress."""
    person_id = builder.principal.person_id
    if person_id is None:
        return NULL_JSON
    p = LessonProgress.__table__.alias()
    return (
        select(PROGRESS_KIND.json(builder, p, nodes))
        .where(p.c.learner_id == person_id, p.c.lesson_id == src.c.id)
        .correlate(src)
        .scalar_subquery()
    )


def _text(src: FromClause) -> ColumnElement[Any]:
    """``Lesson.text`` (``LessonBodyByIdLoader``): the row's body, or looked up by id from a
    list's row (lists leave the body out)."""
    if "body" in src.c:
        body: ColumnElement[Any] = src.c.body
        return body
    lesson = Lesson.__table__.alias()
    return select(lesson.c.body).where(lesson.c.id == src.c.id).correlate(src).scalar_subquery()


_RELATIONS: dict[str, Any] = {
    "unit": LESSON_UNIT,
    "broadcasts": BROADCASTS,
    "quiz": QUIZ,
    "media": Relation(lambda shape, nodes: MEDIA.check(shape, nodes), _media),
    "history": Relation(lambda shape, nodes: REVISION.check(shape, nodes), _history),
    "myProgress": Relation(lambda shape, nodes: PROGRESS_KIND.check(shape, nodes), _my_progress),
}


# --- a Lesson's fields (plan.SHAPED_FIELDS) --------------------------------------------------


def check_field(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """A field of ``Lesson`` described here: is its selection known?"""
    name = nodes[0].name.value
    if name in _RELATIONS:
        _RELATIONS[name].check(shape, nodes)


def build_field(
    builder: Builder, name: str, src: FromClause, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """A field of the lesson row ``src``."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    if name == "publishedAt":
        return utc_timestamp_json(src.c.published_at)
    if name == "text":
        return _text(src)
    field: ColumnElement[Any] = _RELATIONS[name].build(builder, src, nodes)
    return field


# --- a lesson's page: node(id:) of a Lesson (plan.SHAPED_NODES) -----------------------------


def check_node(shape: _Shape, type_name: str, nodes: Sequence[FieldNode]) -> None:
    shape.check_object("Lesson", nodes)


def build_node(
    builder: Builder, type_name: str, pk: int, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """The lesson ``pk`` as ``LessonByIdLoader`` reads it (under the lesson rule: null when the
    caller may not read it)."""
    principal = builder.principal
    if principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    return builder.object_by(
        "Lesson", lambda lesson: and_(lesson.c.id == pk, lesson_visible(principal, lesson.c)), nodes
    )


# --- the curriculum: curriculumUnits (plan.SHAPED_ROOTS) ------------------------------------


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    check_connection(shape, UNIT, nodes)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """The curriculum's page, its filter read as ``Query.curriculum_units`` reads it (a bad
    argument: the resolvers' error)."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")
    known = content_service.known_subject_codes()
    if known is None:
        raise Unsupported("subjects not read yet")  # the resolvers read them once
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    try:
        if flt is not None and flt.grade is not None:
            content_service.check_grade(flt.grade)
        if flt is not None and flt.term is not None:
            content_service.check_term(flt.term)
        subject = (
            content_service.subject_code(flt.subject, known)
            if flt is not None and flt.subject is not None
            else None
        )
        language = (
            content_service.lesson_language(flt.language.value)
            if flt is not None and flt.language
            else None
        )
    except DomainError:
        raise Unsupported("filter") from None  # the resolvers' typed error
    stmt = content_service.curriculum_units_query(
        content_service.UnitFilter(
            standard=flt.standard if flt is not None else None,
            subject_code=subject,
            grade=flt.grade if flt is not None else None,
            term=flt.term if flt is not None else None,
            language=language,
        )
    )
    ordering = content_service.UNIT_ORDERINGS[args["order_by"].value]
    return connection(builder, UNIT, nodes, stmt, ordering, args)
