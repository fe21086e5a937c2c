"""Learning content's DataLoaders: one statement per level of a query, whatever its rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select, true

from models import (
    AssessmentResult,
    CourseAssessment,
    CourseCertificate,
    CourseEnrollment,
    CourseModule,
    CourseRun,
    CurriculumUnit,
    Lesson,
    LessonBroadcast,
    LessonMedia,
    LessonProgress,
    LessonRevision,
    LessonStatus,
    OpenCourse,
    QuizQuestion,
    Subject,
)
from resolvers.content.queries import (
    COURSE_COLUMNS,
    LESSON_COLUMNS,
    RUN_COLUMNS,
    UNIT_COLUMNS,
)
from resolvers.content.rules import course_enrollment_readable, lesson_visible, may_edit_lessons
from resolvers.loaders import ById, ByParent, KeyedLoader, PagesByParent


class SubjectByCodeLoader(ById):
    columns = tuple(Subject.__table__.c)
    key = Subject.code


class CurriculumUnitByIdLoader(ById):
    columns = UNIT_COLUMNS
    key = CurriculumUnit.id


class LessonByIdLoader(ById):
    columns = LESSON_COLUMNS
    key = Lesson.id

    def rule(self) -> ColumnElement[bool]:
        return lesson_visible(self.principal)


class LessonBodyByIdLoader(ById):
    """A lesson's text version (read by the lesson page alone, never by lists)."""

    columns = (Lesson.id, Lesson.body)
    key = Lesson.id


class LessonsByUnitLoader(ByParent):
    columns = LESSON_COLUMNS
    parent = Lesson.unit_id
    order_by = (Lesson.language, Lesson.position, Lesson.id)

    def where(self) -> tuple[ColumnElement[bool], ...]:
        return (lesson_visible(self.principal), Lesson.status != LessonStatus.ARCHIVED)


class MediaByLessonLoader(ByParent):
    columns = tuple(LessonMedia.__table__.c)
    parent = LessonMedia.lesson_id
    order_by = (LessonMedia.kind, LessonMedia.height, LessonMedia.rendition)


class BroadcastsByLessonLoader(ByParent):
    columns = tuple(LessonBroadcast.__table__.c)
    parent = LessonBroadcast.lesson_id
    order_by = (LessonBroadcast.airs_at, LessonBroadcast.id)


class QuestionsByLessonLoader(ByParent):
    # The answer key stays in the database: learners never read it.
    columns = (
        QuizQuestion.id,
        QuizQuestion.lesson_id,
        QuizQuestion.position,
        QuizQuestion.kind,
        QuizQuestion.prompt,
        QuizQuestion.choices,
        QuizQuestion.points,
    )
    parent = QuizQuestion.lesson_id
    order_by = (QuizQuestion.position,)


class RevisionsByLessonLoader(ByParent):
    """A lesson's history, for lesson editors only (an empty list for others)."""

    columns = tuple(LessonRevision.__table__.c)
    parent = LessonRevision.lesson_id
    order_by = (LessonRevision.version,)

    def where(self) -> tuple[ColumnElement[bool], ...]:
        return (true() if may_edit_lessons(self.principal) else false(),)


class MyProgressByLessonLoader(KeyedLoader[int, Any]):
    """The caller's own progress in each lesson (None without a person, or no progress)."""

    async def batch(self, keys: list[int]) -> list[Any]:
        person_id = self.principal.person_id
        if person_id is None:
            return [None] * len(keys)
        stmt = select(*LessonProgress.__table__.c).where(
            LessonProgress.learner_id == person_id, LessonProgress.lesson_id.in_(keys)
        )
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.lesson_id: row for row in rows}
        return [found.get(k) for k in keys]


class OpenCourseByIdLoader(ById):
    columns = COURSE_COLUMNS
    key = OpenCourse.id


class CourseRunByIdLoader(ById):
    columns = RUN_COLUMNS
    key = CourseRun.id


class RunsByCourseLoader(PagesByParent):
    columns = RUN_COLUMNS
    parent = CourseRun.course_id


class ModulesByCourseLoader(ByParent):
    columns = tuple(CourseModule.__table__.c)
    parent = CourseModule.course_id
    order_by = (CourseModule.position,)


class AssessmentsByCourseLoader(ByParent):
    columns = tuple(CourseAssessment.__table__.c)
    parent = CourseAssessment.course_id
    order_by = (CourseAssessment.position,)


class CourseEnrollmentByIdLoader(ById):
    columns = tuple(CourseEnrollment.__table__.c)
    key = CourseEnrollment.id

    def rule(self) -> ColumnElement[bool]:
        return course_enrollment_readable(self.principal)


class ResultsByCourseEnrollmentLoader(ByParent):
    """An enrollment's results (read through a readable enrollment only)."""

    columns = tuple(AssessmentResult.__table__.c)
    parent = AssessmentResult.enrollment_id
    order_by = (AssessmentResult.assessment_id,)


class CertificateByCourseEnrollmentLoader(ById):
    columns = tuple(CourseCertificate.__table__.c)
    key = CourseCertificate.enrollment_id


class CertificateByIdLoader(ById):
    columns = tuple(CourseCertificate.__table__.c)
    key = CourseCertificate.id

    def rule(self) -> ColumnElement[bool]:
        return CourseCertificate.enrollment_id.in_(
            select(CourseEnrollment.id).where(course_enrollment_readable(self.principal))
        )
