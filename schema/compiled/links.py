"""Signed download links on the compiled path: PostgreSQL writes what a link names (the file's
hash, the name and type to serve it under) between markers, and the hub signs each as the
answer passes (:func:`sign_links`), as it seals cursors (:func:`schema.compiled.sql.
seal_cursors`). The signing key never reaches the database, and the link's expiry is the
request's ``time.time()`` plus the hub's ``file_link_ttl_seconds``, computed when the answer
is sent, not when the statement was built or kept: :func:`resolvers.files.links.file_link`
makes the link, the same function the resolvers' ``LessonMedia.url`` calls."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, cast, func, literal_column

from resolvers.access import KeyRing
from resolvers.files.links import file_link
from schema.compiled.sql import json_text

# START, the JSON array [sha256, name, media type] (PostgreSQL's text of it: no raw control
# characters, so no marker inside), END.
LINK_START, LINK_END = b"\x03", b"\x04"
_UNSIGNED = re.compile(LINK_START + rb"([^\x04]*)" + LINK_END)


def unsigned_link(
    sha256: ColumnElement[Any], name: ColumnElement[Any], media_type: ColumnElement[Any]
) -> ColumnElement[Any]:
    """A link to sign, marked for :func:`sign_links`."""
    parts = cast(func.json_build_array(sha256, name, media_type), Text)
    start = literal_column("E'\\x03'", Text)
    return json_text(start.op("||")(parts).op("||")(literal_column("E'\\x04'", Text)))


def sign_links(answer: bytes, ring: KeyRing, ttl_seconds: int) -> bytes:
    """The statement's answer with every marked link signed (a JSON string)."""
    if LINK_START not in answer:
        return answer

    def signed(match: re.Match[bytes]) -> bytes:
        sha256, name, media_type = orjson.loads(match[1])
        link = file_link(ring, sha256, name=name, media_type=media_type, ttl_seconds=ttl_seconds)
        return orjson.dumps(link)

    return _UNSIGNED.sub(signed, answer)
