"""Homework (issue 15): set in a lesson with its due date; pupils hand in text and files (in
the hub's file store, by the SHA-256 of their content, size-limited by :data:`SUBMISSION_FILES`);
the teacher answers with feedback, accepting the work or returning it to be done again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ClassLesson,
    ClassMembership,
    Homework,
    HomeworkFile,
    HomeworkSubmission,
    Institution,
    SubmissionStatus,
)
from resolvers.access import Principal, Role
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.files import FilePolicy, FileStore, receive_file
from resolvers.lms.attendance import pupils_of_lesson
from resolvers.lms.diary import diary_changed
from resolvers.lms.errors import LmsCode
from resolvers.lms.lessons import lesson_for_update
from resolvers.lms.rules import may_write_lesson
from resolvers.lms.years import academic_year, require_in_year

MAX_TEXT = 2000
MAX_ANSWER = 5000
MAX_FILES = 5
# What a pupil may hand in: documents, photos of a notebook, plain text; 10 MB a file.
SUBMISSION_FILES = FilePolicy(
    media_types=frozenset(
        {
            "application/pdf",
            "image/jpeg",
            "image/png",
            "image/webp",
            "text/plain",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.oasis.opendocument.text",
        }
    ),
    max_bytes=10 * 1024 * 1024,
)


async def _writable(
    session: AsyncSession, principal: Principal, lesson: ClassLesson, *, field: str
) -> None:
    inst = await session.get(Institution, lesson.institution_id)
    assert inst is not None
    allowed = await may_write_lesson(
        session,
        principal,
        institution=inst,
        class_group_id=lesson.class_group_id,
        subject_id=lesson.subject_id,
        lesson_teacher_id=lesson.teacher_id,
    )
    if not allowed:
        raise NotFound("The lesson", field=field)


async def assign_homework(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    text: str,
    due_on: date,
    accepts_submissions: bool,
) -> Homework:
    """Set (or change) a lesson's homework: due after the lesson, within the school year."""
    lesson = await lesson_for_update(session, lesson_id, field="lessonId")
    await _writable(session, principal, lesson, field="lessonId")
    text = text.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Say what to do (1-{MAX_TEXT} characters)", field="text"
        )
    year = await academic_year(session, lesson.academic_year_id, field="lessonId")
    require_in_year(year, due_on, field="dueOn")
    if due_on <= lesson.on_date:
        raise DomainError(ErrorCode.INVALID_DATE, "Homework is due after the lesson", field="dueOn")
    values = {
        "body": text,
        "due_on": due_on,
        "accepts_submissions": accepts_submissions,
        "teacher_id": principal.person_id or lesson.teacher_id,
    }
    stmt = pg_insert(Homework).values(
        academic_year_id=lesson.academic_year_id,
        lesson_id=lesson.id,
        class_group_id=lesson.class_group_id,
        subject_id=lesson.subject_id,
        assigned_on=lesson.on_date,
        **values,
    )
    homework: Homework = (
        await session.scalars(
            stmt.on_conflict_do_update(
                constraint="uq_homework_academic_year_id",
                set_={**values, "updated_at": datetime.now(UTC)},
            ).returning(Homework)
        )
    ).one()
    await diary_changed(
        session,
        topic="lms.homework_assigned",
        lesson=lesson,
        pupil_ids=await pupils_of_lesson(session, lesson),
    )
    return homework


@dataclass(frozen=True)
class Handed:
    """Where uploads go: the store and the folder received files are spooled in."""

    store: FileStore
    spool_dir: Path


# long: the checks on a hand-in and its files, then the replace-or-insert, read in order.
async def submit_homework(
    session: AsyncSession,
    principal: Principal,
    *,
    homework_id: int,
    text: str | None,
    files: list[tuple[Any, str]],
    handed: Handed,
) -> HomeworkSubmission:
    """A pupil hands in their homework: text and up to five files (FILE_TOO_LARGE past 10 MB,
    INVALID_FILE when the bytes are not a document, image or text). Handing in again replaces
    the earlier work until the teacher accepts it (HOMEWORK_CLOSED after, or when the homework
    takes no submissions)."""
    if principal.role != Role.PUPIL or principal.person_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Pupils hand in their own homework")
    homework = await session.get(Homework, homework_id)
    if homework is None:
        raise NotFound("The homework", field="homeworkId")
    member = await session.scalar(
        select(ClassMembership.id)
        .where(
            ClassMembership.class_group_id == homework.class_group_id,
            ClassMembership.pupil_id == principal.person_id,
        )
        .limit(1)
    )
    if member is None:
        raise NotFound("The homework", field="homeworkId")
    if not homework.accepts_submissions:
        raise DomainError(
            LmsCode.HOMEWORK_CLOSED, "This homework is not handed in online", field="homeworkId"
        )
    body = (text or "").strip() or None
    if body is not None and len(body) > MAX_ANSWER:
        raise DomainError(ErrorCode.INVALID_INPUT, "The answer is too long", field="text")
    if body is None and not files:
        raise DomainError(ErrorCode.INVALID_INPUT, "Hand in text or files", field="text")
    if len(files) > MAX_FILES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"At most {MAX_FILES} files", field="files")
    found = await session.scalar(
        select(HomeworkSubmission)
        .where(
            HomeworkSubmission.homework_id == homework.id,
            HomeworkSubmission.pupil_id == principal.person_id,
        )
        .with_for_update()
    )
    if found is not None and found.status == SubmissionStatus.ACCEPTED:
        raise DomainError(
            LmsCode.HOMEWORK_CLOSED, "The teacher has accepted this work", field="homeworkId"
        )
    stored = [
        await receive_file(
            session,
            handed.store,
            upload,
            policy=SUBMISSION_FILES,
            spool_dir=handed.spool_dir,
            field=f"files[{i}]",
        )
        for i, (upload, _name) in enumerate(files)
    ]
    now = datetime.now(UTC)
    if found is None:
        found = HomeworkSubmission(
            homework_id=homework.id,
            pupil_id=principal.person_id,
            body=body,
            status=SubmissionStatus.SUBMITTED,
            submitted_at=now,
        )
        session.add(found)
        await session.flush()
    else:
        found.body, found.status, found.submitted_at = body, SubmissionStatus.SUBMITTED, now
        await session.execute(delete(HomeworkFile).where(HomeworkFile.submission_id == found.id))
    session.add_all(
        HomeworkFile(
            submission_id=found.id,
            position=i,
            sha256=file.sha256,
            name=(name or f"file-{i + 1}")[:200],
        )
        for i, (file, (_upload, name)) in enumerate(zip(stored, files, strict=True))
    )
    await session.flush()
    return found


async def review_homework(
    session: AsyncSession,
    principal: Principal,
    *,
    submission_id: int,
    feedback: str,
    accept: bool,
) -> HomeworkSubmission:
    """The teacher's feedback on handed-in work: accepted, or returned to be done again."""
    submission = await session.get(HomeworkSubmission, submission_id, with_for_update=True)
    if submission is None:
        raise NotFound("The submission", field="submissionId")
    homework = await session.get(Homework, submission.homework_id)
    assert homework is not None
    lesson = await lesson_for_update(session, homework.lesson_id, field="submissionId")
    await _writable(session, principal, lesson, field="submissionId")
    feedback = feedback.strip()
    if not 1 <= len(feedback) <= MAX_TEXT:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Write the feedback (1-{MAX_TEXT} characters)",
            field="feedback",
        )
    submission.feedback = feedback
    submission.feedback_by = principal.person_id
    submission.feedback_at = datetime.now(UTC)
    submission.status = SubmissionStatus.ACCEPTED if accept else SubmissionStatus.RETURNED
    await session.flush()
    await diary_changed(
        session, topic="lms.homework_reviewed", lesson=lesson, pupil_ids=[submission.pupil_id]
    )
    return submission
