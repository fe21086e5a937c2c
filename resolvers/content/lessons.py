"""Lessons through their states (issue 16): a content editor drafts a lesson of a curriculum
unit in a language the unit is offered in, adds its media and quiz, submits it for review; a
reviewer returns it with a note or publishes it; a published lesson may be archived. Every
change bumps the lesson's version and writes one history entry; a changed lesson is locked
first, so two editors acting at once on one lesson are served one after the other (the second
sees the first's result)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CurriculumUnit,
    Lesson,
    LessonAction,
    LessonBroadcast,
    LessonMedia,
    LessonRevision,
    LessonStatus,
    MediaKind,
)
from resolvers.access import Principal, require
from resolvers.content.curriculum import lesson_language
from resolvers.content.errors import ContentCode
from resolvers.content.rules import may_edit_lessons
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_lesson_place",
    ContentCode.LESSON_PLACE_TAKEN,
    "Another lesson of this topic in this language has this place",
    "position",
)
register_constraint(
    "uq_lesson_broadcast_slot",
    ContentCode.BROADCAST_SLOT_TAKEN,
    "Another lesson airs on this channel at this time",
    "airsAt",
)
register_constraint(
    "uq_lesson_revision_version",
    ContentCode.WRONG_LESSON_STATE,
    "The lesson changed meanwhile; read it again",
    "lessonId",
)

MAX_TITLE, MAX_SUMMARY, MAX_BODY, MAX_NOTE = 300, 2000, 200_000, 1000
MAX_POSITION = 50
MAX_DURATION = 6 * 3600


@dataclass(frozen=True)
class LessonText:
    """What an editor writes: title, summary, the text version, the length and the lesson's
    place among the topic's lessons. ``None`` leaves a field as it is (on update)."""

    title: str | None = None
    summary: str | None = None
    body: str | None = None
    duration_seconds: int | None = None
    position: int | None = None


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise DomainError(ErrorCode.INVALID_INPUT, f"Give the lesson's {field}", field=field)
        return None
    cleaned = value.strip()
    if (required and not cleaned) or len(cleaned) > limit:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"The {field} is 1-{limit:,} characters", field=field
        )
    return cleaned


def _checked(text: LessonText, *, creating: bool) -> dict[str, Any]:
    """The fields given, checked."""
    values: dict[str, Any] = {}
    title = _text(text.title, "title", MAX_TITLE, required=creating)
    if title is not None:
        values["title"] = title
    if text.summary is not None:
        values["summary"] = _text(text.summary, "summary", MAX_SUMMARY) or None
    if text.body is not None:
        values["body"] = _text(text.body, "body", MAX_BODY) or None
    if text.duration_seconds is not None:
        if not 1 <= text.duration_seconds <= MAX_DURATION:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "A lesson lasts 1 s to 6 h", field="durationSeconds"
            )
        values["duration_seconds"] = text.duration_seconds
    if text.position is not None:
        if not 1 <= text.position <= MAX_POSITION:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"A place is 1-{MAX_POSITION}", field="position"
            )
        values["position"] = text.position
    return values


async def create_lesson(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int,
    language: str,
    text: LessonText,
) -> Lesson:
    """Draft a lesson of a curriculum unit (content editors). Its language must be one the
    unit is offered in (LANGUAGE_NOT_OFFERED); its place among the topic's lessons in that
    language is free (LESSON_PLACE_TAKEN, held by a unique index)."""
    require(may_edit_lessons(principal), "Only content editors create lessons")
    unit = await session.get(CurriculumUnit, unit_id)
    if unit is None:
        raise NotFound("The curriculum unit", field="unitId")
    code = lesson_language(language)
    if code not in unit.languages:
        raise DomainError(
            ContentCode.LANGUAGE_NOT_OFFERED,
            f"This topic is offered in {', '.join(unit.languages)}, not {code}",
            field="language",
        )
    values = _checked(text, creating=True)
    lesson = Lesson.of_unit(
        unit,
        code,
        status=LessonStatus.DRAFT,
        version=1,
        author=principal.subject[:120],
        position=values.pop("position", 1),
        **values,
    )
    session.add(lesson)
    await session.flush()
    await _history(session, lesson, LessonAction.CREATED, principal)
    await session.refresh(lesson)
    return lesson


async def lesson_for_change(
    session: AsyncSession, lesson_id: int, *, states: tuple[LessonStatus, ...], doing: str
) -> Lesson:
    """The lesson, locked for this change, if it is in one of ``states``."""
    lesson = await session.get(Lesson, lesson_id, with_for_update=True, populate_existing=True)
    if lesson is None:
        raise NotFound("The lesson", field="lessonId")
    if lesson.status not in states:
        allowed = " or ".join(s.value for s in states)
        raise DomainError(
            ContentCode.WRONG_LESSON_STATE,
            f"The lesson is {lesson.status.value}; {doing} needs it {allowed}",
            field="lessonId",
        )
    return lesson


async def changed(
    session: AsyncSession,
    lesson: Lesson,
    action: LessonAction,
    principal: Principal,
    *,
    note: str | None = None,
) -> Lesson:
    """Bump the locked lesson's version and write the history entry of ``action``."""
    lesson.version += 1
    await session.flush()
    await _history(session, lesson, action, principal, note=note)
    await session.refresh(lesson)
    return lesson


async def _history(
    session: AsyncSession,
    lesson: Lesson,
    action: LessonAction,
    principal: Principal,
    *,
    note: str | None = None,
) -> None:
    await session.execute(
        insert(LessonRevision).values(
            lesson_id=lesson.id,
            version=lesson.version,
            action=action,
            status=lesson.status,
            actor=principal.subject[:120],
            note=note,
            snapshot={
                "title": lesson.title,
                "summary": lesson.summary,
                "position": lesson.position,
                "durationSeconds": lesson.duration_seconds,
                "bodyLength": len(lesson.body or ""),
            },
        )
    )
    await emit(
        session,
        topic=f"content.lesson_{action.value}",
        aggregate_type="Lesson",
        aggregate_id=lesson.id,
        payload={"version": lesson.version, "status": lesson.status.value},
    )


async def update_lesson(
    session: AsyncSession, principal: Principal, *, lesson_id: int, text: LessonText
) -> Lesson:
    """Change a draft's text, length or place (content editors)."""
    require(may_edit_lessons(principal), "Only content editors edit lessons")
    values = _checked(text, creating=False)
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.DRAFT,), doing="editing"
    )
    if not values:
        raise DomainError(ErrorCode.INVALID_INPUT, "Nothing to change", field="lessonId")
    for name, value in values.items():
        setattr(lesson, name, value)
    return await changed(session, lesson, LessonAction.EDITED, principal)


async def _require_complete(session: AsyncSession, lesson: Lesson) -> None:
    """A lesson a pupil can learn from: a video or an audio rendition, or a text version."""
    has_media = await session.scalar(
        select(
            exists().where(
                LessonMedia.lesson_id == lesson.id,
                or_(LessonMedia.kind == MediaKind.VIDEO, LessonMedia.kind == MediaKind.AUDIO),
            )
        )
    )
    if not has_media and not lesson.body:
        raise DomainError(
            ContentCode.LESSON_INCOMPLETE,
            "The lesson has no video, audio or text version yet",
            field="lessonId",
        )


async def submit_lesson_for_review(
    session: AsyncSession, principal: Principal, *, lesson_id: int
) -> Lesson:
    """Send a complete draft to review (content editors)."""
    require(may_edit_lessons(principal), "Only content editors submit lessons")
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.DRAFT,), doing="submitting"
    )
    await _require_complete(session, lesson)
    lesson.status = LessonStatus.IN_REVIEW
    return await changed(session, lesson, LessonAction.SUBMITTED, principal)


async def return_lesson(
    session: AsyncSession, principal: Principal, *, lesson_id: int, note: str
) -> Lesson:
    """Send a lesson in review back to draft, saying why (content editors)."""
    require(may_edit_lessons(principal), "Only content editors review lessons")
    reason = _text(note, "note", MAX_NOTE, required=True)
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.IN_REVIEW,), doing="returning"
    )
    lesson.status = LessonStatus.DRAFT
    return await changed(session, lesson, LessonAction.RETURNED, principal, note=reason)


async def publish_lesson(session: AsyncSession, principal: Principal, *, lesson_id: int) -> Lesson:
    """Publish a lesson in review (content editors): from now on anyone reads and watches it.
    Two editors publishing the same lesson at once: the lesson row is locked, so the second
    finds it published already (WRONG_LESSON_STATE) and nothing of theirs is written."""
    require(may_edit_lessons(principal), "Only content editors publish lessons")
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.IN_REVIEW,), doing="publishing"
    )
    await _require_complete(session, lesson)
    lesson.status = LessonStatus.PUBLISHED
    lesson.published_at = datetime.now(UTC)
    return await changed(session, lesson, LessonAction.PUBLISHED, principal)


async def archive_lesson(
    session: AsyncSession, principal: Principal, *, lesson_id: int, note: str | None
) -> Lesson:
    """Take a published lesson off the portals (content editors); its history stays."""
    require(may_edit_lessons(principal), "Only content editors archive lessons")
    reason = _text(note, "note", MAX_NOTE) if note else None
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.PUBLISHED,), doing="archiving"
    )
    lesson.status = LessonStatus.ARCHIVED
    lesson.published_at = None
    return await changed(session, lesson, LessonAction.ARCHIVED, principal, note=reason)


async def schedule_broadcast(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    channel: str,
    airs_at: datetime,
) -> Lesson:
    """Put a lesson on a TV channel's schedule (content editors). One lesson per channel and
    start time (BROADCAST_SLOT_TAKEN, held by a unique constraint)."""
    require(may_edit_lessons(principal), "Only content editors schedule broadcasts")
    name = _text(channel, "channel", 100, required=True)
    if airs_at.tzinfo is None:
        raise DomainError(ErrorCode.INVALID_DATE, "Give the time with its offset", field="airsAt")
    lesson = await lesson_for_change(
        session,
        lesson_id,
        states=(LessonStatus.DRAFT, LessonStatus.IN_REVIEW, LessonStatus.PUBLISHED),
        doing="scheduling",
    )
    await session.execute(
        insert(LessonBroadcast).values(lesson_id=lesson.id, channel=name, airs_at=airs_at)
    )
    return await changed(session, lesson, LessonAction.BROADCAST_SCHEDULED, principal)
