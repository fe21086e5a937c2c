"""The hub's file store: files addressed by the SHA-256 of their content (lesson media,
library books, homework), received under a domain's :class:`FilePolicy`, served through
short-lived signed links with range requests."""

from resolvers.files.download import serve_file
from resolvers.files.links import Link, derive_key, file_link, verify_link
from resolvers.files.store import FileStore, LocalFileStore, S3FileStore, file_store, is_sha256
from resolvers.files.uploads import FilePolicy, StoredFile, receive_file, sniff

__all__ = [
    "FilePolicy",
    "FileStore",
    "Link",
    "LocalFileStore",
    "S3FileStore",
    "StoredFile",
    "derive_key",
    "file_link",
    "file_store",
    "is_sha256",
    "receive_file",
    "serve_file",
    "sniff",
    "verify_link",
]
