"""Receiving a file: streamed to a spool file while it is hashed and counted (never whole in
memory), refused past its size limit, its type read from its bytes (not from what the client
declares), then stored once by its SHA-256 and known in ``file_object``.

Each domain states what it accepts as a :class:`FilePolicy` (lesson videos, library books,
homework ...); a file outside the policy is a user error with a stable code and nothing is
stored."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import FileObject
from resolvers.errors import DomainError, ErrorCode
from resolvers.files.store import CHUNK, FileStore

# Text formats carry no magic number: each has its own check of the first bytes.
TEXT_FORMATS: dict[str, Callable[[bytes], bool]] = {
    "text/vtt": lambda head: head.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"),
    "text/plain": lambda head: _utf8(head),
    "text/csv": lambda head: _utf8(head),
    "text/markdown": lambda head: _utf8(head),
}
SNIFF_BYTES = 8192


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        # The sample may end inside a character; anything earlier is a real error.
        return err.start >= len(head) - 3
    return b"\x00" not in head


@dataclass(frozen=True)
class FilePolicy:
    """What a domain accepts for one purpose: media types and a size limit in bytes."""

    media_types: frozenset[str]
    max_bytes: int

    def describe(self) -> str:
        return ", ".join(sorted(self.media_types))


@dataclass(frozen=True)
class StoredFile:
    """A file the store holds."""

    sha256: str
    size_bytes: int
    media_type: str


def sniff(head: bytes, declared: str | None) -> str | None:
    """The media type the first bytes show: by magic number, or for text formats (which have
    none) the declared type when the bytes pass its check."""
    if declared in TEXT_FORMATS:
        return declared if TEXT_FORMATS[declared](head) else None
    if not head:
        return None
    # Imported on the first upload: its table of magic numbers is ~2 MB of a worker that
    # takes none (issue 18: a worker's memory budget).
    import puremagic

    try:
        found = puremagic.from_string(head, mime=True)
    except puremagic.PureError:
        return None
    return str(found) or None


async def _chunks(upload: Any) -> AsyncIterator[bytes]:
    """An upload's bytes: a multipart upload (``read``), or bytes already in hand."""
    if isinstance(upload, bytes | bytearray):
        for start in range(0, len(upload), CHUNK):
            yield bytes(upload[start : start + CHUNK])
        return
    reader = getattr(upload, "read", None)
    if reader is None:
        raise DomainError(ErrorCode.INVALID_FILE, "Send the file as a multipart upload")
    while chunk := await reader(CHUNK):
        yield chunk


async def receive_file(
    session: AsyncSession,
    store: FileStore,
    upload: Any,
    *,
    policy: FilePolicy,
    spool_dir: Path,
    field: str = "file",
) -> StoredFile:
    """Store an uploaded file under the SHA-256 of its content, if ``policy`` accepts it.

    Refusals: FILE_TOO_LARGE past ``policy.max_bytes``; INVALID_FILE when the bytes are not
    one of the policy's media types (whatever the client declared) or the file is empty."""
    declared = getattr(upload, "content_type", None)
    digest = hashlib.sha256()
    size = 0
    head = b""
    await asyncio.to_thread(spool_dir.mkdir, parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", delete=True) as spool:
        async for chunk in _chunks(upload):
            size += len(chunk)
            if size > policy.max_bytes:
                raise DomainError(
                    ErrorCode.FILE_TOO_LARGE,
                    f"The file is over {policy.max_bytes:,} bytes",
                    field=field,
                )
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            await asyncio.to_thread(spool.write, chunk)
        spool.flush()
        if size == 0:
            raise DomainError(ErrorCode.INVALID_FILE, "The file is empty", field=field)
        media_type = sniff(head, declared)
        if media_type not in policy.media_types:
            raise DomainError(
                ErrorCode.INVALID_FILE,
                f"The file's content is not one of: {policy.describe()}",
                field=field,
            )
        sha256 = digest.hexdigest()
        await store.put(sha256, Path(spool.name), media_type)
    await session.execute(
        insert(FileObject)
        .values(sha256=sha256, size_bytes=size, media_type=media_type)
        .on_conflict_do_nothing(index_elements=[FileObject.sha256])
    )
    return StoredFile(sha256=sha256, size_bytes=size, media_type=media_type)
