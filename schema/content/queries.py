"""Learning content's root fields: the public curriculum, lessons, search, offline packs, open
courses and the certificate check; a signed-in learner's feed."""

from __future__ import annotations

import enum

import strawberry

from resolvers import clock
from resolvers import content as content_service
from resolvers.context import Context, Info
from resolvers.errors import DomainError
from resolvers.institutions.loaders import InstitutionByIdLoader
from schema.common import Connection
from schema.content.courses import CertificateCheck, OpenCourse
from schema.content.inputs import (
    CurriculumUnitFilterInput,
    LessonFilterInput,
    OpenCourseFilterInput,
)
from schema.content.learning import (
    Bandwidth,
    MyLearning,
    OfflinePack,
    placement_learning,
    request_error,
)
from schema.content.types import CurriculumUnit, Lesson, Subject
from schema.fields import Listing, connection
from schema.institutions import Language
from schema.node import query_pk
from schema.permissions import signed_in


@strawberry.enum(description="Orders of lesson lists.")
class LessonOrder(enum.Enum):
    CURRICULUM = "CURRICULUM"
    NEWEST = "NEWEST"
    ID = "ID"


@strawberry.enum(description="Orders of curriculum lists.")
class CurriculumUnitOrder(enum.Enum):
    CURRICULUM = "CURRICULUM"
    ID = "ID"


@strawberry.enum(description="Orders of open course lists.")
class OpenCourseOrder(enum.Enum):
    TITLE = "TITLE"
    ID = "ID"


@strawberry.type(description="A lesson found by a search, and how well it matched.")
class LessonSearchHit:
    lesson: Lesson = strawberry.field(description="The lesson.")
    rank: float = strawberry.field(description="How well it matched (higher is better).")


async def _subject(ctx: Context, value: str | None) -> str | None:
    if value is None:
        return None
    known = await ctx.run(content_service.subject_codes)
    return content_service.subject_code(value, known)


def lesson_filter_known(
    flt: LessonFilterInput | None, known: frozenset[str]
) -> content_service.LessonFilter:
    """The domain's filter, the subject codes known; DomainError naming a bad argument
    (UNKNOWN_SUBJECT, INVALID_GRADE, INVALID_TERM, LANGUAGE_NOT_OFFERED). The compiled path
    builds its lesson lists with it too."""
    flt = flt or LessonFilterInput()
    for grade in (flt.grade, flt.grade_min, flt.grade_max):
        if grade is not None:
            content_service.check_grade(grade)
    if flt.term is not None:
        content_service.check_term(flt.term)
    language = None
    if flt.language is not None:
        language = content_service.lesson_language(flt.language.value)
    subject = None
    if flt.subject is not None:
        subject = content_service.subject_code(flt.subject, known)
    return content_service.LessonFilter(
        grade=flt.grade,
        grade_min=flt.grade_min,
        grade_max=flt.grade_max,
        subject_code=subject,
        language=language,
        term=flt.term,
        standard=flt.standard,
        unit_id=query_pk(flt.unit_id, "CurriculumUnit") if flt.unit_id else None,
        status=flt.status,
    )


async def lesson_filter(
    ctx: Context, flt: LessonFilterInput | None
) -> content_service.LessonFilter:
    """:func:`lesson_filter_known`, a bad argument as a top-level error with its code."""
    known = await ctx.run(content_service.subject_codes)
    try:
        return lesson_filter_known(flt, known)
    except DomainError as err:
        raise request_error(err) from None


@strawberry.type
class Query:
    @strawberry.field(
        description="The subjects of the state basic curriculum, one register for learning"
        " content and the LMS (public)."
    )
    async def subjects(self, info: Info) -> list[Subject]:
        from sqlalchemy import select

        from models import Subject as SubjectRow

        stmt = select(*SubjectRow.__table__.c).order_by(SubjectRow.code)
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [Subject.from_row(r) for r in rows]

    @connection(Connection[CurriculumUnit], description="The state curriculum (public).")
    async def curriculum_units(
        self,
        ctx: Context,
        filter: CurriculumUnitFilterInput | None = None,
        order_by: CurriculumUnitOrder = CurriculumUnitOrder.CURRICULUM,
    ) -> Listing:
        flt = filter or CurriculumUnitFilterInput()
        try:
            if flt.grade is not None:
                content_service.check_grade(flt.grade)
            if flt.term is not None:
                content_service.check_term(flt.term)
            subject = await _subject(ctx, flt.subject)
            language = content_service.lesson_language(flt.language.value) if flt.language else None
        except DomainError as err:
            raise request_error(err) from None
        stmt = content_service.curriculum_units_query(
            content_service.UnitFilter(
                standard=flt.standard,
                subject_code=subject,
                grade=flt.grade,
                term=flt.term,
                language=language,
            )
        )
        ordering = content_service.UNIT_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, CurriculumUnit.from_row)

    @connection(
        Connection[Lesson],
        description="Lessons: published ones for everyone (public data), every state for "
        "content editors. The grade-band portals are this list with a grade range.",
    )
    async def lessons(
        self,
        ctx: Context,
        filter: LessonFilterInput | None = None,
        order_by: LessonOrder = LessonOrder.CURRICULUM,
    ) -> Listing:
        stmt = content_service.lessons_query(ctx.principal, await lesson_filter(ctx, filter))
        ordering = content_service.LESSON_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Lesson.from_row)

    @strawberry.field(
        description="Search published lessons in Kyrgyz or Russian, in Cyrillic or Latin "
        "letters; typos forgiven. The best matches first (at most 50: refine the query)."
    )
    async def lesson_search(
        self,
        info: Info,
        query: str,
        filter: LessonFilterInput | None = None,
        first: int = 20,
    ) -> list[LessonSearchHit]:
        ctx = info.context
        flt = await lesson_filter(ctx, filter)
        try:
            wanted = content_service.search_query(query)
        except DomainError as err:
            raise request_error(err) from None
        stmt = content_service.search_statement(wanted, flt, max(1, first))
        rows = await ctx.run(lambda s: s.execute(stmt))
        return [LessonSearchHit(lesson=Lesson.from_row(r), rank=float(r.rank)) for r in rows]

    @strawberry.field(
        description="A term's lessons of a grade, subject and language as a manifest of files "
        "to download once (range requests resume them) and serve offline (public)."
    )
    async def offline_pack(
        self,
        info: Info,
        grade: int,
        subject: str,
        language: Language,
        term: int,
        bandwidth: Bandwidth = Bandwidth.LOW,
    ) -> OfflinePack:
        ctx = info.context
        try:
            pack = await ctx.run(
                lambda s: content_service.offline_pack(
                    s,
                    grade=grade,
                    subject=subject,
                    language=language.value,
                    term=term,
                    bandwidth=bandwidth,
                )
            )
        except DomainError as err:
            raise request_error(err) from None
        return OfflinePack.from_pack(ctx, pack)

    @strawberry.field(
        description="Your feed: your grade and language, the next lesson of each subject, "
        "what you started and finished, your open courses (null without a person).",
        permission_classes=[signed_in("Sign in to see your learning")],
    )
    async def my_learning(self, info: Info, language: Language | None = None) -> MyLearning | None:
        ctx = info.context
        person_id = ctx.principal.person_id
        if person_id is None:
            return None
        try:
            wanted = content_service.lesson_language(language.value) if language else None
        except DomainError as err:
            raise request_error(err) from None
        today = clock.today()
        place = await ctx.run(lambda s: content_service.placement(s, person_id, wanted, today))
        if place.school is not None:  # read with the enrollment, in the same statement
            InstitutionByIdLoader(ctx).loader.prime(place.school.id, place.school)
        return placement_learning(person_id, place, today)

    @connection(Connection[OpenCourse], description="Open courses of universities (public).")
    def open_courses(
        self,
        ctx: Context,
        filter: OpenCourseFilterInput | None = None,
        order_by: OpenCourseOrder = OpenCourseOrder.TITLE,
    ) -> Listing:
        flt = filter or OpenCourseFilterInput()
        stmt = content_service.open_courses_query(
            content_service.CourseFilter(
                institution_id=query_pk(flt.institution_id, "Institution")
                if flt.institution_id
                else None,
                language=flt.language.value if flt.language else None,
                level=flt.level,
                programme_code=flt.programme_code.strip().upper() if flt.programme_code else None,
            )
        )
        ordering = content_service.COURSE_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, OpenCourse.from_row)

    @strawberry.field(
        description="Check a certificate by its number: public facts only (null if unknown)."
    )
    async def verify_certificate(self, info: Info, number: str) -> CertificateCheck | None:
        check = await info.context.run(lambda s: content_service.verify_certificate(s, number))
        return None if check is None else CertificateCheck.from_check(check)
