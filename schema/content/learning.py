"""A learner's feed (``myLearning``) and the offline packs schools download (issue 16)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from resolvers import content as content_service
from resolvers.context import Context, Info
from resolvers.errors import DomainError, RequestError
from resolvers.relay import encode_id
from schema.common import Connection
from schema.content.courses import CourseEnrollment
from schema.content.types import (
    ByteCount,
    CurriculumStandard,
    Lesson,
    LessonProgress,
    MediaKind,
    ProgressStatus,
    QuizQuestion,
    download_link,
)
from schema.fields import Listing, connection
from schema.institutions import Language, institution_of

if TYPE_CHECKING:
    from schema.institutions import Institution

InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]

strawberry.enum(
    content_service.Bandwidth,
    name="Bandwidth",
    description="A school's line: audio only, or video up to 240p (LOW), 480p or 720p.",
)
Bandwidth: TypeAlias = content_service.Bandwidth
# Files of published lessons are public: a pack's links last a week, long enough for a slow
# line to fetch a term, resuming by range requests.
PACK_LINK_TTL = 7 * 24 * 3600


def request_error(err: DomainError) -> RequestError:
    """A query argument the domain refused, as a top-level error with its code."""
    problem = err.problems[0]
    return RequestError(problem.code, problem.message, field=problem.field)


@strawberry.type(description="A signed-in learner's feed: where they learn, what comes next.")
class MyLearning:
    person_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int | None]
    class_group_pk: strawberry.Private[int | None]
    academic_year_pk: strawberry.Private[int | None]
    membership_pk: strawberry.Private[int | None]
    # The day the feed is for (Bishkek): the unit a class is on is read up to it.
    day: strawberry.Private[date]
    grade: int | None = strawberry.field(description="Your grade (from your school enrollment).")
    language: Language = strawberry.field(description="The language of your lessons.")
    term: int = strawberry.field(
        description="The term (quarter) it is now: your class's school calendar's (the next "
        "term in the holidays), else by the date."
    )
    standard: CurriculumStandard | None = strawberry.field(
        description="The standard your lessons follow: your class's curriculum model, else the "
        "one your school gives your cohort (null without a school enrollment). A subject it has "
        "no lessons of in your grade and language comes from the other standard."
    )

    @strawberry.field(description="Your school (null without an open school enrollment).")
    async def school(self, info: Info) -> InstitutionT | None:
        if self.institution_pk is None:
            return None
        return await institution_of(info, self.institution_pk)

    @strawberry.field(
        description="Per subject, the next published lesson of your grade and standard you have "
        "not completed: from the unit your class (or your half of it) is on (the curriculum "
        "topic its teacher last recorded), else from this term on."
    )
    async def next_lessons(self, info: Info, subject: str | None = None) -> list[Lesson]:
        ctx = info.context
        code = None
        if subject is not None:
            known = await ctx.run(content_service.subject_codes)
            try:
                code = content_service.subject_code(subject, known)
            except DomainError as err:
                raise request_error(err) from None
        place = content_service.Placement(
            self.institution_pk,
            self.grade,
            self.language.value,
            class_group_id=self.class_group_pk,
            academic_year_id=self.academic_year_pk,
            standard=None if self.standard is None else self.standard.value,
            membership_id=self.membership_pk,
        )
        stmt = content_service.next_lessons_query(
            self.person_pk, place, term=self.term, today=self.day, subject_code=code
        )
        if stmt is None:
            return []
        rows = await ctx.run(lambda s: s.execute(stmt))
        return [Lesson.from_row(r) for r in rows]

    @connection(Connection[LessonProgress], description="Lessons you started or finished.")
    def progress(self, ctx: Context, status: ProgressStatus | None = None) -> Listing:
        stmt = content_service.progress_query(self.person_pk, status)
        ordering = content_service.PROGRESS_ORDERINGS["RECENT"]
        return Listing(stmt, ordering, LessonProgress.from_row)

    @connection(Connection[CourseEnrollment], description="Your open courses, the latest first.")
    def course_enrollments(self, ctx: Context) -> Listing:
        return Listing(
            content_service.my_course_enrollments_query(self.person_pk),
            content_service.MY_ENROLLMENT_ORDERING,
            CourseEnrollment.from_row,
        )


@strawberry.type(description="A file of an offline pack.")
class PackFile:
    lesson_pk: strawberry.Private[int]
    kind: MediaKind = strawberry.field(description="What the file is for.")
    rendition: str = strawberry.field(description="Which rendition it is.")
    sha256: str = strawberry.field(description="SHA-256 of its content (hex): check it.")
    size_bytes: ByteCount = strawberry.field(description="Size in bytes.")
    media_type: str = strawberry.field(description="Its media type.")
    name: str = strawberry.field(description="A file name to save it under.")
    url: str = strawberry.field(
        description="Signed link serving it with range requests: resume a broken download."
    )

    @strawberry.field(description="The lesson it belongs to.")
    def lesson_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Lesson", self.lesson_pk))


@strawberry.type(description="A lesson of an offline pack, with what a pupil needs offline.")
class PackLesson:
    lesson: Lesson = strawberry.field(description="The lesson.")
    text: str | None = strawberry.field(description="Its text version.")
    quiz: list[QuizQuestion] = strawberry.field(
        description="Its quiz (answers are graded by the hub when progress is sent)."
    )


@strawberry.type(description="A term's lessons of a grade, subject and language, to take offline.")
class OfflinePack:
    grade: int = strawberry.field(description="Grade.")
    subject_code: str = strawberry.field(description="Subject.")
    language: Language = strawberry.field(description="Language.")
    term: int = strawberry.field(description="Term.")
    bandwidth: Bandwidth = strawberry.field(description="The renditions chosen for this line.")
    version: str = strawberry.field(
        description="A hash of the pack's lessons and files: it changes when they do."
    )
    total_bytes: ByteCount = strawberry.field(description="All its files, in bytes.")
    lessons: list[PackLesson] = strawberry.field(description="Its lessons, in curriculum order.")
    files: list[PackFile] = strawberry.field(description="Its files.")
    links_expire_at: datetime = strawberry.field(description="When the files' links expire.")

    @classmethod
    def from_pack(cls, ctx: Context, pack: content_service.Pack) -> OfflinePack:
        expires = int(time.time()) + PACK_LINK_TTL
        files = [
            PackFile(
                lesson_pk=f.lesson_id,
                kind=f.kind,
                rendition=f.rendition,
                sha256=f.sha256,
                size_bytes=ByteCount(f.size_bytes),
                media_type=f.media_type,
                name=f.name,
                url=download_link(
                    ctx, f.sha256, name=f.name, media_type=f.media_type, ttl=PACK_LINK_TTL
                ),
            )
            for f in pack.files
        ]
        lessons = [
            PackLesson(
                lesson=Lesson.from_row(row),
                text=pack.bodies.get(row.id),
                quiz=[QuizQuestion.from_row(q) for q in pack.questions.get(row.id, [])],
            )
            for row in pack.lessons
        ]
        return cls(
            grade=pack.grade,
            subject_code=pack.subject_code,
            language=Language(pack.language),
            term=pack.term,
            bandwidth=pack.bandwidth,
            version=pack.version,
            total_bytes=ByteCount(pack.total_bytes),
            lessons=lessons,
            files=files,
            links_expire_at=datetime.fromtimestamp(expires, UTC),
        )


def placement_learning(person_id: int, place: Any, day: date) -> MyLearning:
    return MyLearning(
        person_pk=person_id,
        institution_pk=place.institution_id,
        class_group_pk=place.class_group_id,
        academic_year_pk=place.academic_year_id,
        membership_pk=place.membership_id,
        day=day,
        grade=place.grade,
        language=Language(place.language),
        term=place.term,
        standard=None if place.standard is None else CurriculumStandard(place.standard),
    )
