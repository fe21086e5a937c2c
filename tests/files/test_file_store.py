"""The file store: files received under a policy, stored once by their SHA-256, served by
signed links with range requests, on a folder and on an S3-compatible bucket."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models import FileObject
from resolvers.access import KeyRing
from resolvers.errors import DomainError
from resolvers.files import (
    FilePolicy,
    LocalFileStore,
    S3FileStore,
    file_link,
    receive_file,
    serve_file,
    verify_link,
)
from resolvers.settings import Settings

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 4000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
BOOKS = FilePolicy(
    media_types=frozenset({"application/pdf", "application/epub+zip"}), max_bytes=1 << 20
)
SUBTITLES = FilePolicy(media_types=frozenset({"text/vtt"}), max_bytes=10_000)


class Upload:
    """A multipart upload as strawberry hands it over (read in chunks, a declared type)."""

    def __init__(self, data: bytes, content_type: str | None = None) -> None:
        self.stream, self.content_type = io.BytesIO(data), content_type

    async def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)


def epub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", "<container/>")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.load(Settings(data_dir=tmp_path / "keys", environment="test"))


async def stored_rows(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(FileObject)) or 0)


class TestReceiveFile:
    async def test_a_book_is_stored_once_by_its_content_hash(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        # when the same book arrives twice, once as bytes and once as an upload
        first = await receive_file(session, store, PDF, policy=BOOKS, spool_dir=tmp_path)
        again = await receive_file(
            session, store, Upload(PDF, "application/pdf"), policy=BOOKS, spool_dir=tmp_path
        )
        await session.commit()
        # then it is one file, named by its SHA-256, with the type its bytes show
        assert first == again
        assert first.sha256 == hashlib.sha256(PDF).hexdigest()
        assert (first.size_bytes, first.media_type) == (len(PDF), "application/pdf")
        assert store.local_path(first.sha256) is not None
        assert await stored_rows(session) == 1

    async def test_the_type_comes_from_the_bytes_not_from_the_client(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        with pytest.raises(DomainError) as refused:
            await receive_file(
                session, store, Upload(PNG, "application/pdf"), policy=BOOKS, spool_dir=tmp_path
            )
        assert refused.value.code.value == "INVALID_FILE"
        assert refused.value.problems[0].field == "file"
        assert await stored_rows(session) == 0
        assert not any((tmp_path / "files").rglob("*"))

    async def test_an_epub_is_recognised_inside_its_zip(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        book = await receive_file(session, store, epub(), policy=BOOKS, spool_dir=tmp_path)
        assert book.media_type == "application/epub+zip"

    async def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        small = FilePolicy(media_types=BOOKS.media_types, max_bytes=1000)
        with pytest.raises(DomainError) as refused:
            await receive_file(session, store, Upload(PDF), policy=small, spool_dir=tmp_path)
        assert refused.value.code.value == "FILE_TOO_LARGE"
        assert await stored_rows(session) == 0
        assert [n for n in os.listdir(tmp_path) if n.startswith("upload-")] == []  # spool gone

    async def test_an_empty_file_is_refused(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        with pytest.raises(DomainError) as refused:
            await receive_file(session, store, b"", policy=BOOKS, spool_dir=tmp_path)
        assert refused.value.code.value == "INVALID_FILE"

    async def test_subtitles_are_checked_by_their_header(
        self, session: AsyncSession, store: LocalFileStore, tmp_path: Path
    ) -> None:
        vtt = "\ufeffWEBVTT\n\n00:00.000 --> 00:02.000\nСаламатсызбы\n".encode()
        ok = await receive_file(
            session, store, Upload(vtt, "text/vtt"), policy=SUBTITLES, spool_dir=tmp_path
        )
        assert ok.media_type == "text/vtt"
        with pytest.raises(DomainError):
            await receive_file(
                session,
                store,
                Upload(b"not subtitles", "text/vtt"),
                policy=SUBTITLES,
                spool_dir=tmp_path,
            )


class TestLinks:
    def test_a_link_made_by_the_hub_verifies(self, ring: KeyRing) -> None:
        sha = hashlib.sha256(PDF).hexdigest()
        link = file_link(ring, sha, name="Алиппе.pdf", media_type="application/pdf", ttl_seconds=60)
        path, _, query = link.partition("?")
        params = dict(httpx.QueryParams(query))
        granted = verify_link(ring, sha, params)
        assert path == f"/files/{sha}"
        assert (granted.name, granted.media_type) == ("Алиппе.pdf", "application/pdf")

    @pytest.mark.parametrize(
        "change",
        [
            {"name": "other.pdf"},
            {"type": "text/html"},
            {"exp": "9999999999"},
            {"sig": "AAAA"},
            {"kid": "unknown"},
        ],
    )
    def test_a_changed_link_is_refused(self, ring: KeyRing, change: dict[str, str]) -> None:
        sha = "a" * 64
        query = file_link(ring, sha, name="a.pdf", media_type="application/pdf", ttl_seconds=60)
        params = {**dict(httpx.QueryParams(query.partition("?")[2])), **change}
        with pytest.raises(Exception, match="not valid"):
            verify_link(ring, sha, params)
        with pytest.raises(Exception, match="not valid"):
            verify_link(ring, "b" * 64, dict(httpx.QueryParams(query.partition("?")[2])))

    def test_an_expired_link_is_refused(self, ring: KeyRing) -> None:
        query = file_link(ring, "a" * 64, name="a", media_type="text/plain", ttl_seconds=60, now=0)
        with pytest.raises(Exception, match="expired"):
            verify_link(ring, "a" * 64, dict(httpx.QueryParams(query.partition("?")[2])))

    def test_links_made_before_a_key_rotation_still_verify(
        self, ring: KeyRing, tmp_path: Path
    ) -> None:
        query = file_link(ring, "a" * 64, name="a", media_type="text/plain", ttl_seconds=60)
        ring.rotate(tmp_path / "keys" / "signing-keys.json")
        verify_link(ring, "a" * 64, dict(httpx.QueryParams(query.partition("?")[2])))


@pytest.fixture
async def files_app(
    session: AsyncSession, store: LocalFileStore, ring: KeyRing, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    stored = await receive_file(session, store, PDF, policy=BOOKS, spool_dir=tmp_path)

    async def endpoint(request: Request) -> Response:
        return await serve_file(request, store=store, ring=ring)

    app = Starlette(routes=[Route("/files/{sha256}", endpoint)])
    link = file_link(
        ring, stored.sha256, name="Алиппе.pdf", media_type="application/pdf", ttl_seconds=60
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as c:
        yield c, link


class TestDownload:
    async def test_the_whole_file_with_its_name(
        self, files_app: tuple[httpx.AsyncClient, str]
    ) -> None:
        client, link = files_app
        answer = await client.get(link)
        assert answer.status_code == 200
        assert answer.content == PDF
        assert answer.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''%D0%90" in answer.headers["content-disposition"]

    async def test_a_resumed_download_gets_the_rest(
        self, files_app: tuple[httpx.AsyncClient, str]
    ) -> None:
        client, link = files_app
        answer = await client.get(link, headers={"Range": "bytes=1000-"})
        assert answer.status_code == 206
        assert answer.content == PDF[1000:]
        assert answer.headers["content-range"] == f"bytes 1000-{len(PDF) - 1}/{len(PDF)}"

    async def test_a_range_past_the_end_is_416(
        self, files_app: tuple[httpx.AsyncClient, str]
    ) -> None:
        client, link = files_app
        answer = await client.get(link, headers={"Range": f"bytes={len(PDF) + 10}-"})
        assert answer.status_code == 416

    async def test_without_a_valid_link_nothing_is_served(
        self, files_app: tuple[httpx.AsyncClient, str]
    ) -> None:
        client, link = files_app
        path = link.partition("?")[0]
        assert (await client.get(path)).status_code == 403
        assert (await client.get(link.replace("sig=", "sig=x"))).status_code == 403
        assert (await client.get("/files/not-a-hash")).status_code == 404


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto's server: real HTTP, real S3 protocol)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


class TestS3Store:
    async def test_a_file_round_trips_through_a_bucket_with_ranges(
        self, s3_endpoint: str, tmp_path: Path
    ) -> None:
        settings = Settings(
            data_dir=tmp_path,
            environment="test",
            file_store="s3",
            s3_endpoint=s3_endpoint,
            s3_bucket="bilim",
            s3_access_key="test",
            s3_secret_key="testtesttest",
            s3_secure=False,
            s3_region="us-east-1",
        )
        store = S3FileStore.from_settings(settings)
        store.client.make_bucket("bilim")
        sha = hashlib.sha256(PDF).hexdigest()
        source = tmp_path / "book.pdf"
        source.write_bytes(PDF)
        assert await store.size(sha) is None
        await store.put(sha, source, "application/pdf")
        await store.put(sha, source, "application/pdf")  # already there: nothing happens
        assert await store.size(sha) == len(PDF)
        whole = b"".join([c async for c in store.read(sha)])
        part = b"".join([c async for c in store.read(sha, 10, 99)])
        assert whole == PDF
        assert part == PDF[10:100]


class TestServedByTheHub:
    async def test_the_hub_serves_a_stored_file_by_its_link(
        self, hub: Any, session: AsyncSession, tmp_path: Path
    ) -> None:
        from resolvers.files import file_store

        store = file_store(hub.settings)
        stored = await receive_file(session, store, PDF, policy=BOOKS, spool_dir=tmp_path)
        await session.commit()
        link = file_link(
            hub.keyring,
            stored.sha256,
            name="book.pdf",
            media_type="application/pdf",
            ttl_seconds=60,
        )
        answer = await hub.client.get(link, headers={"Range": "bytes=0-99"})
        assert answer.status_code == 206
        assert answer.content == PDF[:100]
        assert (await hub.client.get(link.partition("?")[0])).status_code == 403
