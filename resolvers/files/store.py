"""Where the bytes of the hub's files live: a folder of the data directory by default, or an
S3-compatible bucket (``BILIM_FILE_STORE=s3``). Files are named by the SHA-256 of their content,
so a file uploaded twice is stored once, and a stored file never changes."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from resolvers.settings import Settings

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 256 * 1024


def is_sha256(value: str) -> bool:
    return bool(SHA256.match(value))


class FileStore(Protocol):
    """The operations every backend offers."""

    async def put(self, sha256: str, source: Path, media_type: str) -> None:
        """Store ``source``'s bytes (already hashed) under ``sha256``; nothing if present."""

    async def size(self, sha256: str) -> int | None:
        """The stored file's size, or None when it is not stored."""

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start`` to ``end`` (inclusive; the end of the file when None)."""

    def local_path(self, sha256: str) -> Path | None:
        """The file on this machine's disk, when the backend keeps it there."""


class LocalFileStore:
    """Files in a folder: ``<root>/ab/cd/abcd...`` (two levels keep folders small)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def local_path(self, sha256: str) -> Path | None:
        path = self._path(sha256)
        return path if path.is_file() else None

    async def put(self, sha256: str, source: Path, media_type: str) -> None:
        target = self._path(sha256)
        if target.is_file():
            return

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Copy beside the target, then rename: a reader never sees half a file.
            partial = target.with_name(f".{target.name}.{os.getpid()}.part")
            shutil.copyfile(source, partial)
            os.replace(partial, target)

        await asyncio.to_thread(move)

    async def size(self, sha256: str) -> int | None:
        path = self.local_path(sha256)
        return path.stat().st_size if path is not None else None

    async def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(sha256)
        left = None if end is None else end - start + 1
        with path.open("rb") as handle:
            handle.seek(start)
            while left is None or left > 0:
                chunk = await asyncio.to_thread(
                    handle.read, CHUNK if left is None else min(CHUNK, left)
                )
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk


class S3FileStore:
    """Files in an S3-compatible bucket (MinIO, Ceph, AWS), through the ``minio`` client; its
    calls block, so they run in threads."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3FileStore:
        from minio import Minio

        if not (settings.s3_endpoint and settings.s3_bucket):
            raise RuntimeError("BILIM_FILE_STORE=s3 needs BILIM_S3_ENDPOINT and BILIM_S3_BUCKET")
        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key or None,
            secure=settings.s3_secure,
            region=settings.s3_region or None,
        )
        return cls(client, settings.s3_bucket)

    def local_path(self, sha256: str) -> Path | None:
        return None

    async def put(self, sha256: str, source: Path, media_type: str) -> None:
        if await self.size(sha256) is not None:
            return
        await asyncio.to_thread(
            self.client.fput_object, self.bucket, sha256, str(source), content_type=media_type
        )

    async def size(self, sha256: str) -> int | None:
        from minio.error import S3Error

        try:
            stat = await asyncio.to_thread(self.client.stat_object, self.bucket, sha256)
        except S3Error as err:
            if err.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return None
            raise
        return int(stat.size)

    async def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        length = 0 if end is None else end - start + 1
        response = await asyncio.to_thread(
            self.client.get_object, self.bucket, sha256, offset=start, length=length
        )
        try:
            while True:
                chunk = await asyncio.to_thread(response.read, CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            response.close()
            response.release_conn()


_stores: dict[tuple[str, ...], FileStore] = {}


def file_store(settings: Settings) -> FileStore:
    """The configured store (one per process and configuration)."""
    root = settings.file_store_dir or settings.data_dir / "files"
    key = (settings.file_store, str(root), settings.s3_endpoint or "", settings.s3_bucket or "")
    store = _stores.get(key)
    if store is None:
        store = (
            S3FileStore.from_settings(settings)
            if settings.file_store == "s3"
            else LocalFileStore(root)
        )
        _stores[key] = store
    return store
