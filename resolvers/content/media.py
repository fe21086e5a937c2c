"""A lesson's media: video renditions (240p-1080p with their bitrate), the audio-only
rendition, subtitles per language, attachments and a thumbnail. Uploads go through the hub's
file store (size limit, type read from the bytes, stored once by SHA-256); the table names the
file and what it is for the lesson."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Lesson, LessonAction, LessonMedia, LessonStatus, MediaKind
from resolvers.access import Principal, require
from resolvers.content.errors import ContentCode
from resolvers.content.lessons import changed, lesson_for_change
from resolvers.content.rules import may_edit_lessons
from resolvers.errors import DomainError
from resolvers.files import FilePolicy, FileStore, receive_file

MB = 1024 * 1024
# What each kind of media may be, by the type its bytes show. An .m4a audio file shows as
# video/mp4 (the same container), so the audio rendition accepts it.
POLICIES = {
    MediaKind.VIDEO: FilePolicy(frozenset({"video/mp4", "video/webm"}), 2048 * MB),
    MediaKind.AUDIO: FilePolicy(
        frozenset(
            {"audio/mpeg", "audio/aac", "audio/mp4", "audio/ogg", "application/ogg", "video/mp4"}
        ),
        300 * MB,
    ),
    MediaKind.SUBTITLES: FilePolicy(frozenset({"text/vtt"}), 2 * MB),
    MediaKind.ATTACHMENT: FilePolicy(
        frozenset({"application/pdf", "application/epub+zip", "image/png", "image/jpeg"}),
        100 * MB,
    ),
    MediaKind.THUMBNAIL: FilePolicy(frozenset({"image/png", "image/jpeg", "image/webp"}), 2 * MB),
}
VIDEO_HEIGHTS = {"240p": 240, "360p": 360, "480p": 480, "720p": 720, "1080p": 1080}
SUBTITLE_LANGUAGES = ("ky", "ru", "uz", "tg", "en")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class MediaSpec:
    """What an upload is for the lesson: its kind and rendition, the bitrate of a video or
    audio rendition, and a title (attachments)."""

    kind: MediaKind
    rendition: str | None = None
    bitrate_kbps: int | None = None
    title: str | None = None


def _rendition(spec: MediaSpec) -> tuple[str, int | None]:
    """The rendition's name and, for a video, its height; INVALID_RENDITION otherwise."""
    value = (spec.rendition or "").strip().lower()
    if spec.kind == MediaKind.VIDEO:
        if value not in VIDEO_HEIGHTS:
            raise DomainError(
                ContentCode.INVALID_RENDITION,
                f"A video rendition is one of {', '.join(VIDEO_HEIGHTS)}",
                field="rendition",
            )
        return value, VIDEO_HEIGHTS[value]
    if spec.kind == MediaKind.AUDIO:
        return "audio", None
    if spec.kind == MediaKind.THUMBNAIL:
        return "thumbnail", None
    if spec.kind == MediaKind.SUBTITLES:
        if value not in SUBTITLE_LANGUAGES:
            raise DomainError(
                ContentCode.INVALID_RENDITION,
                "Subtitles are named by their language: ky, ru, uz, tg or en",
                field="rendition",
            )
        return value, None
    if not _NAME.match(value):
        raise DomainError(
            ContentCode.INVALID_RENDITION,
            "Name an attachment with 1-40 lower-case letters, digits, - or _",
            field="rendition",
        )
    return value, None


def _bitrate(spec: MediaSpec) -> int | None:
    if spec.kind not in (MediaKind.VIDEO, MediaKind.AUDIO):
        return None
    if spec.bitrate_kbps is None or not 8 <= spec.bitrate_kbps <= 50_000:
        raise DomainError(
            ContentCode.INVALID_RENDITION,
            "Give a video or audio rendition's bitrate, 8-50,000 kbit/s",
            field="bitrateKbps",
        )
    return spec.bitrate_kbps


async def upload_lesson_media(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    spec: MediaSpec,
    upload: Any,
    store: FileStore,
    spool_dir: Path,
) -> Lesson:
    """Add (or replace) one medium of a draft lesson (content editors).

    The file must be of a type its kind accepts, read from its bytes (INVALID_FILE), and within
    the kind's size limit (FILE_TOO_LARGE); the rendition must be one the kind knows
    (INVALID_RENDITION). Everything is checked before the file is stored."""
    require(may_edit_lessons(principal), "Only content editors add media")
    rendition, height = _rendition(spec)
    bitrate = _bitrate(spec)
    title = (spec.title or "").strip()[:200] or None
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.DRAFT,), doing="adding media"
    )
    stored = await receive_file(
        session, store, upload, policy=POLICIES[spec.kind], spool_dir=spool_dir
    )
    values = {
        "sha256": stored.sha256,
        "size_bytes": stored.size_bytes,
        "media_type": stored.media_type,
        "height": height,
        "bitrate_kbps": bitrate,
        "title": title,
    }
    stmt = insert(LessonMedia).values(
        lesson_id=lesson.id, kind=spec.kind, rendition=rendition, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(constraint="uq_lesson_media_rendition", set_=values)
    )
    return await changed(session, lesson, LessonAction.MEDIA_ADDED, principal)
