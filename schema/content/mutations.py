"""Learning content's lesson-side mutations: the curriculum import, the lesson workflow (content
editors) and learners' progress."""

from __future__ import annotations

from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import content as content_service
from resolvers.context import Context
from resolvers.errors import DomainError
from resolvers.errors import ErrorCode as HubCode
from resolvers.files import file_store
from resolvers.mutations import MutationResult
from schema.common import ErrorCode, UserError, user_errors
from schema.content.inputs import (
    CreateLessonInput,
    ImportCurriculumInput,
    LessonNoteInput,
    LessonStepInput,
    ProgressStatementInput,
    QuizQuestionInput,
    ScheduleLessonBroadcastInput,
    SetLessonQuizInput,
    SyncLessonProgressInput,
    UpdateLessonInput,
    UploadLessonMediaInput,
)
from schema.content.types import Lesson, LessonProgress, settings_of
from schema.fields import Payload, mutation
from schema.node import optional_pk, pk_of


@strawberry.type(description="Result of a lesson mutation.")
class LessonPayload(Payload):
    lesson: Lesson | None = strawberry.field(description="The lesson as it now stands.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="A line of the curriculum file that was not loaded.")
class CurriculumLineProblem:
    line: int = strawberry.field(description="Its line number (the header is line 1).")
    code: ErrorCode = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="Why, for people.")


@strawberry.type(description="What a curriculum import did.")
class CurriculumImportReport:
    lines: int = strawberry.field(description="Lines read (the header aside).")
    created: int = strawberry.field(description="Topics created.")
    updated: int = strawberry.field(description="Topics updated.")
    rejected: int = strawberry.field(description="Lines not loaded.")
    problems: list[CurriculumLineProblem] = strawberry.field(
        description="Each line not loaded, and why."
    )

    @classmethod
    def from_import(cls, report: content_service.CurriculumImport) -> CurriculumImportReport:
        return cls(
            lines=report.lines,
            created=report.created,
            updated=report.updated,
            rejected=report.rejected,
            problems=[
                CurriculumLineProblem(line=p.line, code=ErrorCode(p.code.value), message=p.message)
                for p in report.problems
            ],
        )


@strawberry.type(description="Result of a curriculum import.")
class ImportCurriculumPayload(Payload):
    report: CurriculumImportReport | None = strawberry.field(
        description="What was loaded and what was not (null when the file was refused whole)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of recording a progress statement.")
class LessonProgressPayload(Payload):
    progress: LessonProgress | None = strawberry.field(
        description="Your progress in the lesson, the statement counted (once)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="A statement of a batch that was not accepted.")
class RejectedStatement:
    index: int = strawberry.field(description="Its place in the batch, from 0.")
    field: str | None = strawberry.field(description="The statement's field at fault.")
    code: ErrorCode = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="Why, for people.")


@strawberry.type(description="Result of sending progress recorded offline.")
class SyncLessonProgressPayload(Payload):
    accepted: int = strawberry.field(description="Statements new to the hub, now counted.")
    duplicates: int = strawberry.field(description="Statements the hub had already (not counted).")
    rejected: list[RejectedStatement] = strawberry.field(
        description="Statements refused (nothing of theirs written)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        report = result.value or content_service.SyncReport()
        return cls(
            accepted=report.accepted,
            duplicates=report.duplicates,
            rejected=[
                RejectedStatement(
                    index=r.index, field=r.field, code=ErrorCode(r.code.value), message=r.message
                )
                for r in report.rejected
            ],
            user_errors=user_errors(result.problems),
        )


def _question(question: QuizQuestionInput) -> content_service.QuestionSpec:
    return content_service.QuestionSpec(
        kind=question.kind,
        prompt=question.prompt,
        choices=tuple(question.choices),
        correct_choices=tuple(question.correct_choices),
        numeric_answer=question.numeric_answer,
        tolerance=question.tolerance,
        accepted_answers=tuple(question.accepted_answers),
        points=question.points,
    )


def statement_of(item: ProgressStatementInput, at: str) -> content_service.Statement:
    """The domain's statement; a bad ID is the caller's error at ``at``."""
    answers = None
    if item.answers is not None:
        answers = [
            content_service.Answer(
                question_id=pk_of(a.question_id, "QuizQuestion", field=f"{at}answers.questionId"),
                choices=tuple(a.choices),
                number=a.number,
                text=a.text,
            )
            for a in item.answers
        ]
    return content_service.Statement(
        statement_id=item.statement_id,
        lesson_id=pk_of(item.lesson_id, "Lesson", field=f"{at}lessonId"),
        verb=item.verb,
        occurred_at=item.occurred_at,
        attempt=item.attempt,
        seconds=item.seconds,
        answers=answers,
        learner_id=optional_pk(item.learner_id, "Person", field=f"{at}learnerId"),
    )


def _lesson_pk(input: Any) -> int:
    return pk_of(input.lesson_id, "Lesson", field="lessonId")


@strawberry.type
class Mutation:
    @mutation(
        "content.import_curriculum",
        ImportCurriculumPayload,
        description="Load the curriculum file: good lines loaded, bad ones reported by number "
        "(content editors).",
    )
    async def import_curriculum(
        session: AsyncSession, ctx: Context, input: ImportCurriculumInput
    ) -> Any:
        reader = getattr(input.file, "read", None)
        if reader is None:
            raise DomainError(
                HubCode.INVALID_FILE, "Send the file as a multipart upload", field="file"
            )
        # One byte past the limit tells a file that is too large.
        data = await reader(content_service.MAX_CURRICULUM_BYTES + 1)
        report = await content_service.import_curriculum(session, ctx.principal, data=data)
        return CurriculumImportReport.from_import(report)

    @mutation(
        "content.create_lesson",
        LessonPayload,
        description="Draft a lesson of a curriculum topic (content editors).",
    )
    async def create_lesson(session: AsyncSession, ctx: Context, input: CreateLessonInput) -> Any:
        return await content_service.create_lesson(
            session,
            ctx.principal,
            unit_id=pk_of(input.unit_id, "CurriculumUnit", field="unitId"),
            language=input.language.value,
            text=content_service.LessonText(
                title=input.title,
                summary=input.summary,
                body=input.text,
                duration_seconds=input.duration_seconds,
                position=input.position,
            ),
        )

    @mutation(
        "content.update_lesson",
        LessonPayload,
        description="Change a draft lesson (content editors).",
    )
    async def update_lesson(session: AsyncSession, ctx: Context, input: UpdateLessonInput) -> Any:
        return await content_service.update_lesson(
            session,
            ctx.principal,
            lesson_id=_lesson_pk(input),
            text=content_service.LessonText(
                title=input.title,
                summary=input.summary,
                body=input.text,
                duration_seconds=input.duration_seconds,
                position=input.position,
            ),
        )

    @mutation(
        "content.upload_lesson_media",
        LessonPayload,
        description="Add or replace a file of a draft lesson: a video rendition, the audio, "
        "subtitles, an attachment, the thumbnail (content editors; multipart upload).",
    )
    async def upload_lesson_media(
        session: AsyncSession, ctx: Context, input: UploadLessonMediaInput
    ) -> Any:
        settings = settings_of(ctx)
        return await content_service.upload_lesson_media(
            session,
            ctx.principal,
            lesson_id=_lesson_pk(input),
            spec=content_service.MediaSpec(
                kind=input.kind,
                rendition=input.rendition,
                bitrate_kbps=input.bitrate_kbps,
                title=input.title,
            ),
            upload=input.file,
            store=file_store(settings),
            spool_dir=settings.data_dir / "spool",
        )

    @mutation(
        "content.set_lesson_quiz",
        LessonPayload,
        description="Replace a draft lesson's quiz (content editors).",
    )
    async def set_lesson_quiz(
        session: AsyncSession, ctx: Context, input: SetLessonQuizInput
    ) -> Any:
        return await content_service.set_lesson_quiz(
            session,
            ctx.principal,
            lesson_id=_lesson_pk(input),
            questions=[_question(q) for q in input.questions],
        )

    @mutation(
        "content.schedule_lesson_broadcast",
        LessonPayload,
        description="Put a lesson on a TV channel's schedule (content editors).",
    )
    async def schedule_lesson_broadcast(
        session: AsyncSession, ctx: Context, input: ScheduleLessonBroadcastInput
    ) -> Any:
        return await content_service.schedule_broadcast(
            session,
            ctx.principal,
            lesson_id=_lesson_pk(input),
            channel=input.channel,
            airs_at=input.airs_at,
        )

    @mutation(
        "content.submit_lesson",
        LessonPayload,
        description="Send a complete draft to review (content editors).",
    )
    async def submit_lesson_for_review(
        session: AsyncSession, ctx: Context, input: LessonStepInput
    ) -> Any:
        return await content_service.submit_lesson_for_review(
            session, ctx.principal, lesson_id=_lesson_pk(input)
        )

    @mutation(
        "content.return_lesson",
        LessonPayload,
        description="Send a lesson in review back to draft, saying why (content editors).",
    )
    async def return_lesson(session: AsyncSession, ctx: Context, input: LessonNoteInput) -> Any:
        return await content_service.return_lesson(
            session, ctx.principal, lesson_id=_lesson_pk(input), note=input.note or ""
        )

    @mutation(
        "content.publish_lesson",
        LessonPayload,
        description="Publish a lesson in review: anyone may then watch it (content editors).",
    )
    async def publish_lesson(session: AsyncSession, ctx: Context, input: LessonStepInput) -> Any:
        return await content_service.publish_lesson(
            session, ctx.principal, lesson_id=_lesson_pk(input)
        )

    @mutation(
        "content.archive_lesson",
        LessonPayload,
        description="Take a published lesson off the portals (content editors).",
    )
    async def archive_lesson(session: AsyncSession, ctx: Context, input: LessonNoteInput) -> Any:
        return await content_service.archive_lesson(
            session, ctx.principal, lesson_id=_lesson_pk(input), note=input.note
        )

    @mutation(
        "content.record_progress",
        LessonProgressPayload,
        description="Record a progress statement of yours (started, progressed, completed with "
        "quiz answers); the same statement sent again counts once.",
    )
    async def record_lesson_progress(
        session: AsyncSession, ctx: Context, input: ProgressStatementInput
    ) -> Any:
        return await content_service.record_lesson_progress(
            session, ctx.principal, statement=statement_of(input, "")
        )

    @mutation(
        "content.sync_progress",
        SyncLessonProgressPayload,
        description="Send progress recorded offline in one batch (a learner's device, or a "
        "school's server for its pupils): merged without duplicates.",
    )
    async def sync_lesson_progress(
        session: AsyncSession, ctx: Context, input: SyncLessonProgressInput
    ) -> Any:
        statements = [
            statement_of(item, f"statements[{i}].") for i, item in enumerate(input.statements)
        ]
        return await content_service.sync_lesson_progress(
            session, ctx.principal, statements=statements
        )
