"""Lessons: a curriculum unit's lesson in one language of instruction, with its text version,
media (video renditions, audio, subtitles, attachments; the bytes in the file store), TV
broadcast slots, quiz questions and the history of every change (domain.md S5)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.content.curriculum import CurriculumStandard, CurriculumUnit
from models.types import enum_column, global_id_column

# ``content_fold(text)``: Kyrgyz and Russian Cyrillic and the Latin spellings people type folded
# to one plain Latin form (the migration creates it; resolvers/content/search.py has its Python
# twin), so "бөлчөк", "bölchök" and "bolchok" are one word to the search.
FOLD_FUNCTION = "content_fold"

SEARCH_FOLDED = "content_fold(title || ' ' || coalesce(summary, ''))"
# No Kyrgyz stemmer exists: Kyrgyz words are indexed folded, unstemmed ('simple'), and matched by
# prefix; Russian lessons also get Russian stems.
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, content_fold(title)), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, content_fold(coalesce(summary, ''))), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, content_fold(coalesce(body, ''))), 'C') || "
    "CASE WHEN language = 'ru' THEN setweight(to_tsvector('russian'::regconfig, "
    "title || ' ' || coalesce(summary, '')), 'A') ELSE ''::tsvector END"
)


class LessonStatus(enum.StrEnum):
    """Draft -> in review -> published (-> archived); a reviewer may return it to draft."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class LessonAction(enum.StrEnum):
    """What one entry of a lesson's history did."""

    CREATED = "created"
    EDITED = "edited"
    MEDIA_ADDED = "media_added"
    QUIZ_SET = "quiz_set"
    BROADCAST_SCHEDULED = "broadcast_scheduled"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class MediaKind(enum.StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    SUBTITLES = "subtitles"
    ATTACHMENT = "attachment"
    THUMBNAIL = "thumbnail"


class QuestionKind(enum.StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMERIC = "numeric"
    SHORT_TEXT = "short_text"


class Lesson(Timestamped, Base):
    """A curriculum unit's lesson in one language of instruction.

    The unit's place (standard, subject, grade, term, unit, topic) is copied onto the lesson so
    that the portals' lists (by grade, subject, language, term, in curriculum order) read one
    index; the curriculum import keeps the copies in step with their unit."""

    __tablename__ = "lesson"
    __table_args__ = (
        CheckConstraint("language IN ('ky', 'ru', 'uz', 'tg')", name="language"),
        CheckConstraint("position >= 1", name="position"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds > 0", name="duration"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_at"),
        # One lesson per place of a topic and language, archived ones aside.
        Index(
            "uq_lesson_place",
            "unit_id",
            "language",
            "position",
            unique=True,
            postgresql_where=text("status <> 'archived'"),
        ),
        # The portals' lists: published lessons of a grade and subject in one language, in
        # curriculum order.
        Index(
            "ix_lesson_published_order",
            "grade",
            "subject_code",
            "language",
            "term",
            "unit_no",
            "topic_no",
            "position",
            "id",
            postgresql_where=text("status = 'published'"),
        ),
        # The subjects a standard has published lessons of in a grade and language (the
        # feed's choice of standard per subject, resolvers/content/feed.py), from the index
        # alone.
        Index(
            "ix_lesson_published_standard",
            "grade",
            "language",
            "standard",
            "subject_code",
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_lesson_search", "search_vector", postgresql_using="gin"),
        Index(
            "ix_lesson_search_trgm",
            "search_folded",
            postgresql_using="gin",
            postgresql_ops={"search_folded": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Lesson")
    unit_id: Mapped[int] = mapped_column(ForeignKey("curriculum_unit.id"))
    language: Mapped[str] = mapped_column(String(2))
    standard: Mapped[CurriculumStandard] = enum_column(CurriculumStandard)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subject.code"))
    grade: Mapped[int] = mapped_column(SmallInteger)
    term: Mapped[int] = mapped_column(SmallInteger)
    unit_no: Mapped[int] = mapped_column(SmallInteger)
    topic_no: Mapped[int] = mapped_column(SmallInteger)
    position: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(String(2000))
    # The text version: what a pupil without video reads (markdown).
    body: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[LessonStatus] = enum_column(LessonStatus, server_default=text("'draft'"))
    # Bumped by every change; each version has one history entry.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    author: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_folded: Mapped[str] = mapped_column(Text, Computed(SEARCH_FOLDED, persisted=True))
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR, persisted=True))

    @classmethod
    def of_unit(cls, unit: CurriculumUnit, language: str, **values: Any) -> Lesson:
        """A new lesson of ``unit`` in ``language``, the unit's place copied onto it."""
        return cls(
            unit_id=unit.id,
            language=language,
            standard=unit.standard,
            subject_code=unit.subject_code,
            grade=unit.grade,
            term=unit.term,
            unit_no=unit.unit_no,
            topic_no=unit.topic_no,
            **values,
        )


class LessonRevision(Base):
    """One entry of a lesson's history: what changed, by whom, the status after, and the
    lesson's text as it then stood."""

    __tablename__ = "lesson_revision"
    __table_args__ = (UniqueConstraint("lesson_id", "version", name="uq_lesson_revision_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[LessonAction] = enum_column(LessonAction)
    status: Mapped[LessonStatus] = enum_column(LessonStatus)
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(1000))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LessonMedia(Base):
    """A file of a lesson: a video rendition, the audio-only rendition, subtitles in a language,
    an attachment or the thumbnail. The bytes are in the file store under ``sha256``."""

    __tablename__ = "lesson_media"
    __table_args__ = (
        UniqueConstraint("lesson_id", "kind", "rendition", name="uq_lesson_media_rendition"),
        CheckConstraint("kind <> 'video' OR height IS NOT NULL", name="video_height"),
        CheckConstraint("bitrate_kbps IS NULL OR bitrate_kbps > 0", name="bitrate"),
        CheckConstraint("size_bytes > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    kind: Mapped[MediaKind] = enum_column(MediaKind)
    # "240p", "480p", "720p" (video), "audio", a language code (subtitles), a name (attachments).
    rendition: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(ForeignKey("file_object.sha256"), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    height: Mapped[int | None] = mapped_column(SmallInteger)
    bitrate_kbps: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LessonBroadcast(Base):
    """A TV slot a lesson airs in: one lesson per channel and start time."""

    __tablename__ = "lesson_broadcast"
    __table_args__ = (
        UniqueConstraint("channel", "airs_at", name="uq_lesson_broadcast_slot"),
        Index("ix_lesson_broadcast_lesson", "lesson_id", "airs_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(100))
    airs_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuizQuestion(Base):
    """A question of a lesson's quiz and its answer key (never shown to learners).

    ``answer`` holds, by kind: ``{"choice": i}``, ``{"choices": [i, ...]}``,
    ``{"value": x, "tolerance": t}`` or ``{"accepted": ["...", ...]}``."""

    __tablename__ = "quiz_question"
    __table_args__ = (
        UniqueConstraint("lesson_id", "position", name="uq_quiz_question_position"),
        CheckConstraint("points BETWEEN 1 AND 100", name="points"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[QuestionKind] = enum_column(QuestionKind)
    prompt: Mapped[str] = mapped_column(String(2000))
    choices: Mapped[list[str]] = mapped_column(
        ARRAY(String(500)), server_default=text("'{}'::varchar[]")
    )
    answer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    points: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))


class LessonListVersion(Base):
    """One row: a value every write to ``lesson`` or ``subject`` changes (a statement trigger),
    so a worker keeps the anonymous lesson list's answers per version and knows when they are
    stale (schema/http/kept.py)."""

    __tablename__ = "lesson_list_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
