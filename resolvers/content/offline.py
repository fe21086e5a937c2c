"""Offline packs (issue 16): a term's lessons of one grade, subject and language as a manifest
a school fetches once over a slow line and serves on its local network.

The manifest names every file with its SHA-256 and size, the video rendition chosen for the
school's bandwidth class, and the lessons with their text versions and quiz questions (not the
answer keys: the hub grades the answers when the school sends its pupils' progress). Each file
is downloaded from the file store by a signed link that answers HTTP range requests, so a broken
download resumes where it stopped; a file already held (same SHA-256) is not fetched again. The
manifest's own hash (``version``) changes whenever a lesson or file of the pack does."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Lesson, LessonMedia, LessonStatus, MediaKind, QuizQuestion
from resolvers.content.curriculum import (
    check_grade,
    check_term,
    lesson_language,
    subject_code,
    subject_codes,
)
from resolvers.content.queries import LESSON_COLUMNS

MAX_LESSONS = 500


class Bandwidth(enum.StrEnum):
    """How much a school's line carries: audio only, or video up to 240p, 480p or 720p."""

    AUDIO_ONLY = "audio_only"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/aac": "aac",
    "audio/mp4": "m4a",
    "audio/ogg": "ogg",
    "application/ogg": "ogg",
    "text/vtt": "vtt",
    "application/pdf": "pdf",
    "application/epub+zip": "epub",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}
MAX_HEIGHT = {Bandwidth.LOW: 240, Bandwidth.MEDIUM: 480, Bandwidth.HIGH: 720}
ALWAYS = (MediaKind.SUBTITLES, MediaKind.ATTACHMENT, MediaKind.THUMBNAIL)


@dataclass(frozen=True)
class PackFile:
    """One file of a pack."""

    lesson_id: int
    kind: MediaKind
    rendition: str
    sha256: str
    size_bytes: int
    media_type: str
    name: str


@dataclass(frozen=True)
class Pack:
    """A manifest: what it covers, its lessons and questions, its files, their total size and
    the manifest's hash."""

    grade: int
    subject_code: str
    language: str
    term: int
    bandwidth: Bandwidth
    lessons: list[Any]
    bodies: dict[int, str | None]
    questions: dict[int, list[Any]]
    files: list[PackFile]
    total_bytes: int
    version: str


def choose(media: list[Any], bandwidth: Bandwidth) -> list[Any]:
    """A lesson's files for a bandwidth class: one video rendition (the tallest within the
    class, or the smallest there is), or the audio rendition for audio only (a video when the
    lesson has no audio); subtitles, attachments and the thumbnail always."""
    videos = sorted((m for m in media if m.kind == MediaKind.VIDEO), key=lambda m: m.height)
    audio = [m for m in media if m.kind == MediaKind.AUDIO]
    chosen = [m for m in media if m.kind in ALWAYS]
    if bandwidth == Bandwidth.AUDIO_ONLY and audio:
        chosen.extend(audio)
    elif videos:
        limit = MAX_HEIGHT.get(bandwidth, 240)
        fitting = [v for v in videos if v.height <= limit]
        chosen.append(fitting[-1] if fitting else videos[0])
    elif audio:
        chosen.extend(audio)
    return chosen


async def offline_pack(
    session: AsyncSession,
    *,
    grade: int,
    subject: str,
    language: str,
    term: int,
    bandwidth: Bandwidth,
) -> Pack:
    """The manifest of a term's published lessons of a grade, subject and language. Unknown
    subjects, grades, terms and languages are the caller's error (UNKNOWN_SUBJECT,
    INVALID_GRADE, INVALID_TERM, LANGUAGE_NOT_OFFERED)."""
    code = subject_code(subject, await subject_codes(session))
    check_grade(grade)
    check_term(term)
    lang = lesson_language(language)
    lessons = list(
        await session.execute(
            select(*LESSON_COLUMNS, Lesson.body)
            .where(
                Lesson.status == LessonStatus.PUBLISHED,
                Lesson.grade == grade,
                Lesson.subject_code == code,
                Lesson.language == lang,
                Lesson.term == term,
            )
            .order_by(Lesson.unit_no, Lesson.topic_no, Lesson.position, Lesson.id)
            .limit(MAX_LESSONS)
        )
    )
    ids = [row.id for row in lessons]
    media: dict[int, list[Any]] = {}
    questions: dict[int, list[Any]] = {}
    if ids:
        for row in await session.execute(
            select(*LessonMedia.__table__.c)
            .where(LessonMedia.lesson_id.in_(ids))
            .order_by(LessonMedia.lesson_id, LessonMedia.kind, LessonMedia.rendition)
        ):
            media.setdefault(row.lesson_id, []).append(row)
        for row in await session.execute(
            select(*QuizQuestion.__table__.c)
            .where(QuizQuestion.lesson_id.in_(ids))
            .order_by(QuizQuestion.lesson_id, QuizQuestion.position)
        ):
            questions.setdefault(row.lesson_id, []).append(row)
    files = [
        PackFile(
            lesson_id=lesson.id,
            kind=MediaKind(m.kind),
            rendition=m.rendition,
            sha256=m.sha256,
            size_bytes=m.size_bytes,
            media_type=m.media_type,
            name=f"lesson-{lesson.id}-{m.kind}-{m.rendition}.{EXTENSIONS.get(m.media_type, 'bin')}",
        )
        for lesson in lessons
        for m in choose(media.get(lesson.id, []), bandwidth)
    ]
    version = _version(lessons, files)
    return Pack(
        grade=grade,
        subject_code=code,
        language=lang,
        term=term,
        bandwidth=bandwidth,
        lessons=lessons,
        bodies={row.id: row.body for row in lessons},
        questions=questions,
        files=files,
        total_bytes=sum(f.size_bytes for f in files),
        version=version,
    )


def _version(lessons: list[Any], files: list[PackFile]) -> str:
    """A hash of what the pack holds: its lessons' versions and its files."""
    content = {
        "lessons": [[row.id, row.version] for row in lessons],
        "files": [[f.lesson_id, f.kind.value, f.rendition, f.sha256] for f in files],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
