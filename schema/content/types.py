"""Learning content's lesson side in the graph: subjects, curriculum units, lessons with their
media (each with a signed download link), broadcasts, quiz questions (never their answers),
history and the caller's progress."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

import strawberry

from models import CurriculumStandard as CurriculumStandardEnum
from models import LessonAction as LessonActionEnum
from models import LessonStatus as LessonStatusEnum
from models import MediaKind as MediaKindEnum
from models import ProgressStatus as ProgressStatusEnum
from models import QuestionKind as QuestionKindEnum
from resolvers.content.loaders import (
    BroadcastsByLessonLoader,
    CurriculumUnitByIdLoader,
    LessonBodyByIdLoader,
    LessonByIdLoader,
    LessonsByUnitLoader,
    MediaByLessonLoader,
    MyProgressByLessonLoader,
    QuestionsByLessonLoader,
    RevisionsByLessonLoader,
    SubjectByCodeLoader,
)
from resolvers.context import Context, Info
from resolvers.files import file_link
from resolvers.relay import encode_id
from resolvers.settings import Settings, get_settings
from schema.common import Node
from schema.institutions import Language as LanguageEnum
from schema.lms import Subject
from schema.node import fetched_by, loaded

# Sizes pass 2**31 (a video, a term's pack): GraphQL's Int is 32 bits, so they are Floats,
# whole numbers exact up to 2**53.
ByteCount: TypeAlias = float

strawberry.enum(
    CurriculumStandardEnum,
    name="CurriculumStandard",
    description="The 12-year standard or the legacy 11-year model (domain.md S1).",
)
CurriculumStandard: TypeAlias = CurriculumStandardEnum
strawberry.enum(LessonStatusEnum, name="LessonStatus", description="Where a lesson stands.")
LessonStatus: TypeAlias = LessonStatusEnum
strawberry.enum(LessonActionEnum, name="LessonAction", description="A change to a lesson.")
LessonAction: TypeAlias = LessonActionEnum
strawberry.enum(MediaKindEnum, name="MediaKind", description="What a lesson's file is for.")
MediaKind: TypeAlias = MediaKindEnum
strawberry.enum(QuestionKindEnum, name="QuestionKind", description="How a question is answered.")
QuestionKind: TypeAlias = QuestionKindEnum
strawberry.enum(
    ProgressStatusEnum, name="ProgressStatus", description="Started, or completed, a lesson."
)
ProgressStatus: TypeAlias = ProgressStatusEnum


def settings_of(ctx: Context) -> Settings:
    """The running hub's settings (the process-wide ones outside a request)."""
    request = ctx.request
    if request is not None and getattr(request.app.state, "settings", None) is not None:
        settings: Settings = request.app.state.settings
        return settings
    return get_settings()


def download_link(ctx: Context, sha256: str, *, name: str, media_type: str, ttl: int) -> str:
    """A signed link serving a stored file (with range requests) for ``ttl`` seconds."""
    ring = ctx.request.app.state.keyring
    return file_link(ring, sha256, name=name, media_type=media_type, ttl_seconds=ttl)


async def subject_of(info: Info, code: str) -> Subject:
    return Subject.from_row(await SubjectByCodeLoader(info.context).load(code))


@fetched_by(CurriculumUnitByIdLoader)
@strawberry.type(description="A topic of a unit of the state standard, for a subject and grade.")
class CurriculumUnit(Node):
    pk: strawberry.Private[int]
    standard: CurriculumStandard = strawberry.field(description="The school model.")
    subject_code: str = strawberry.field(description="The subject's code.")
    grade: int = strawberry.field(description="Grade 1-12.")
    term: int = strawberry.field(description="Term (quarter) 1-4.")
    unit_no: int = strawberry.field(description="The unit's number in the year.")
    unit_title: str = strawberry.field(description="The unit's title.")
    topic_no: int = strawberry.field(description="The topic's number in the unit.")
    topic_title: str = strawberry.field(description="The topic's title.")
    outcomes: list[str] = strawberry.field(description="Learning outcomes.")
    hours: Decimal = strawberry.field(description="Teaching hours.")
    languages: list[LanguageEnum] = strawberry.field(
        description="Languages of instruction the topic's lessons are made in."
    )

    @classmethod
    def from_row(cls, row: Any) -> CurriculumUnit:
        return cls(
            id=strawberry.ID(encode_id("CurriculumUnit", row.id)),
            pk=row.id,
            standard=row.standard,
            subject_code=row.subject_code,
            grade=row.grade,
            term=row.term,
            unit_no=row.unit_no,
            unit_title=row.unit_title,
            topic_no=row.topic_no,
            topic_title=row.topic_title,
            outcomes=list(row.outcomes),
            hours=row.hours,
            languages=[LanguageEnum(v) for v in row.languages],
        )

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_code)

    @strawberry.field(description="The topic's lessons you may read, by language and place.")
    async def lessons(self, info: Info) -> list[Lesson]:
        rows = await LessonsByUnitLoader(info.context).load(self.pk)
        return [Lesson.from_row(r) for r in rows]


@strawberry.type(description="A file of a lesson: a rendition, subtitles, an attachment.")
class LessonMedia:
    sha256_: strawberry.Private[str]
    lesson_pk: strawberry.Private[int]
    kind: MediaKind = strawberry.field(description="What the file is for.")
    rendition: str = strawberry.field(
        description="240p/360p/480p/720p/1080p, audio, a language (subtitles) or a name."
    )
    size_bytes: ByteCount = strawberry.field(description="Size in bytes (a whole number).")
    media_type: str = strawberry.field(description="The media type its bytes show.")
    height: int | None = strawberry.field(description="Video height in pixels.")
    bitrate_kbps: int | None = strawberry.field(description="Bitrate in kbit/s (video, audio).")
    title: str | None = strawberry.field(description="Title (attachments).")

    @classmethod
    def from_row(cls, row: Any) -> LessonMedia:
        return cls(
            sha256_=row.sha256,
            lesson_pk=row.lesson_id,
            kind=row.kind,
            rendition=row.rendition,
            size_bytes=ByteCount(row.size_bytes),
            media_type=row.media_type,
            height=row.height,
            bitrate_kbps=row.bitrate_kbps,
            title=row.title,
        )

    @strawberry.field(description="SHA-256 of the content (hex): the same file has the same.")
    def sha256(self) -> str:
        return self.sha256_

    @strawberry.field(
        description="A signed link that serves the file (with range requests) for a while."
    )
    def url(self, info: Info) -> str:
        ctx = info.context
        return download_link(
            ctx,
            self.sha256_,
            name=f"lesson-{self.lesson_pk}-{self.kind.value}-{self.rendition}",
            media_type=self.media_type,
            ttl=settings_of(ctx).file_link_ttl_seconds,
        )


@strawberry.type(description="A TV slot a lesson airs in.")
class LessonBroadcast:
    channel: str = strawberry.field(description="The TV channel.")
    airs_at: datetime = strawberry.field(description="When it airs.")


@strawberry.type(description="A question of a lesson's quiz (its answer is never shown).")
class QuizQuestion:
    question_id: strawberry.Private[int]
    position: int = strawberry.field(description="Its place in the quiz, from 1.")
    kind: QuestionKind = strawberry.field(description="How it is answered.")
    prompt: str = strawberry.field(description="The question.")
    choices: list[str] = strawberry.field(description="The choices (choice questions).")
    points: int = strawberry.field(description="What a right answer is worth.")

    @classmethod
    def from_row(cls, row: Any) -> QuizQuestion:
        return cls(
            question_id=row.id,
            position=row.position,
            kind=row.kind,
            prompt=row.prompt,
            choices=list(row.choices),
            points=row.points,
        )

    @strawberry.field(description="The question's ID, to answer it by.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("QuizQuestion", self.question_id))


@strawberry.type(description="One change in a lesson's history.")
class LessonRevision:
    version: int = strawberry.field(description="The lesson's version after the change.")
    action: LessonAction = strawberry.field(description="What changed.")
    status: LessonStatus = strawberry.field(description="The lesson's status after it.")
    actor: str = strawberry.field(description="Who changed it (the token's subject).")
    note: str | None = strawberry.field(description="The reviewer's note, if any.")
    at: datetime = strawberry.field(description="When.")


@strawberry.type(description="A learner's progress in one lesson.")
class LessonProgress:
    lesson_pk: strawberry.Private[int]
    status: ProgressStatus = strawberry.field(description="Started or completed.")
    attempts: int = strawberry.field(description="Attempts made.")
    seconds_spent: int = strawberry.field(description="Time spent, in seconds, all attempts.")
    best_score: Decimal | None = strawberry.field(description="Best quiz score, 0-100.")
    started_at: datetime = strawberry.field(description="First statement's time.")
    completed_at: datetime | None = strawberry.field(description="First completion's time.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: Any) -> LessonProgress:
        return cls(
            lesson_pk=row.lesson_id,
            status=row.status,
            attempts=row.attempts,
            seconds_spent=row.seconds_spent,
            best_score=row.best_score,
            started_at=row.started_at,
            completed_at=row.completed_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The lesson (null if it is no longer readable).")
    async def lesson(self, info: Info) -> Lesson | None:
        return await loaded(LessonByIdLoader(info.context), self.lesson_pk, Lesson.from_row)


@fetched_by(LessonByIdLoader)
@strawberry.type(description="A video/TV lesson of a curriculum topic in one language.")
class Lesson(Node):
    pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    title: str = strawberry.field(description="Title.")
    summary: str | None = strawberry.field(description="What the lesson teaches, briefly.")
    language: LanguageEnum = strawberry.field(description="Language of instruction.")
    standard: CurriculumStandard = strawberry.field(description="The school model.")
    subject_code: str = strawberry.field(description="The subject's code.")
    grade: int = strawberry.field(description="Grade 1-12.")
    term: int = strawberry.field(description="Term (quarter) 1-4.")
    unit_no: int = strawberry.field(description="The unit's number in the year.")
    topic_no: int = strawberry.field(description="The topic's number in the unit.")
    position: int = strawberry.field(description="The lesson's place among the topic's lessons.")
    duration_seconds: int | None = strawberry.field(description="Length in seconds.")
    status: LessonStatus = strawberry.field(description="Draft, in review, published, archived.")
    version: int = strawberry.field(description="Bumped by every change.")
    published_at: datetime | None = strawberry.field(description="When it was published.")

    @classmethod
    def from_row(cls, row: Any) -> Lesson:
        return cls(
            id=strawberry.ID(encode_id("Lesson", row.id)),
            pk=row.id,
            unit_pk=row.unit_id,
            title=row.title,
            summary=row.summary,
            language=LanguageEnum(row.language),
            standard=row.standard,
            subject_code=row.subject_code,
            grade=row.grade,
            term=row.term,
            unit_no=row.unit_no,
            topic_no=row.topic_no,
            position=row.position,
            duration_seconds=row.duration_seconds,
            status=row.status,
            version=row.version,
            published_at=row.published_at,
        )

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_code)

    @strawberry.field(description="The curriculum topic it teaches.")
    async def unit(self, info: Info) -> CurriculumUnit:
        row = await CurriculumUnitByIdLoader(info.context).load(self.unit_pk)
        return CurriculumUnit.from_row(row)

    @strawberry.field(description="The text version, for reading without video (markdown).")
    async def text(self, info: Info) -> str | None:
        row = await LessonBodyByIdLoader(info.context).load(self.pk)
        return None if row is None else row.body

    @strawberry.field(description="Its files: renditions, audio, subtitles, attachments.")
    async def media(self, info: Info, kind: MediaKind | None = None) -> list[LessonMedia]:
        rows = await MediaByLessonLoader(info.context).load(self.pk)
        return [LessonMedia.from_row(r) for r in rows if kind is None or r.kind == kind]

    @strawberry.field(description="TV slots it airs in.")
    async def broadcasts(self, info: Info) -> list[LessonBroadcast]:
        rows = await BroadcastsByLessonLoader(info.context).load(self.pk)
        return [LessonBroadcast(channel=r.channel, airs_at=r.airs_at) for r in rows]

    @strawberry.field(description="Its quiz, in order (empty without one).")
    async def quiz(self, info: Info) -> list[QuizQuestion]:
        rows = await QuestionsByLessonLoader(info.context).load(self.pk)
        return [QuizQuestion.from_row(r) for r in rows]

    @strawberry.field(description="Every change, oldest first (content editors; empty for others).")
    async def history(self, info: Info) -> list[LessonRevision]:
        rows = await RevisionsByLessonLoader(info.context).load(self.pk)
        return [
            LessonRevision(
                version=r.version,
                action=r.action,
                status=r.status,
                actor=r.actor,
                note=r.note,
                at=r.at,
            )
            for r in rows
        ]

    @strawberry.field(description="Your progress in it (null when signed out or not started).")
    async def my_progress(self, info: Info) -> LessonProgress | None:
        return await loaded(
            MyProgressByLessonLoader(info.context), self.pk, LessonProgress.from_row
        )
