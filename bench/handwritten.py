"""The floor the hub is measured against (issue 21): the benchmark's shapes answered by one
hand-written SQL statement each, served by the smallest ASGI endpoint that can serve them (no
framework, no GraphQL, no token check, no budget): it reads the JSON body, picks the
statement by the operation's name, decodes the global IDs, runs the statement on a pooled
asyncpg connection and sends ``{"data": <the statement's JSON>}``.

    uvicorn bench.handwritten:app        # DATABASE_URL names the benchmark's database

``python -m bench.request_path`` starts it beside the hub and drives both alike. The JSON is
the same document the hub sends (PostgreSQL's ``json_build_object`` spaces it differently and
the cursor is not sealed); the statements are the simplest correct ones for each shape, with
``json_agg`` as a hand-written JSON statement would use it.
"""

from __future__ import annotations

import os
import re
from typing import Any

import asyncpg
import orjson

from models import database
from resolvers.relay import decode_id

# (a) one person by global id: a primary-key lookup.
PERSON = """
SELECT json_build_object('node', json_build_object(
  'id', p.gid, 'firstName', p.first_name, 'lastName', p.last_name,
  'patronymic', p.patronymic, 'birthDate', p.birth_date, 'sex', upper(p.sex)))::text
FROM person p WHERE p.id = $1
"""

# The institutions of a region a page holds, one more than asked (hasNextPage).
_PAGE = """
WITH page AS (
  SELECT i.id, i.gid, i.name, i.kind, i.design_capacity,
         row_number() OVER (ORDER BY i.name, i.id) AS n
  FROM institution i
  WHERE i.region_id = $1 AND i.kind = 'school'
    AND (i.closed_on IS NULL OR i.closed_on > CURRENT_DATE)
  ORDER BY i.name, i.id
  LIMIT $2 + 1
)
"""

# (b) 50 institutions x 20 current enrollments x person, with totalCount.
INSTITUTIONS = (
    _PAGE
    + """
SELECT json_build_object('institutions', json_build_object(
  'totalCount', (SELECT count(*) FROM institution i WHERE i.region_id = $1 AND i.kind = 'school'
                 AND (i.closed_on IS NULL OR i.closed_on > CURRENT_DATE)),
  'pageInfo', json_build_object(
     'hasNextPage', count(*) > $2,
     'endCursor', (array_agg(jsonb_build_array(page.name, page.id)::text ORDER BY page.n)
                   FILTER (WHERE page.n <= $2))[least(count(*), $2)]),
  'nodes', coalesce(json_agg(json_build_object(
     'id', page.gid, 'name', page.name, 'kind', upper(page.kind),
     'designCapacity', page.design_capacity,
     'enrollments', json_build_object('nodes', (
        SELECT coalesce(json_agg(json_build_object(
                 'id', e.gid, 'gradeLevel', e.grade_level, 'classGroup', e.class_group,
                 'person', json_build_object('id', p.gid, 'firstName', p.first_name,
                                             'lastName', p.last_name,
                                             'birthDate', p.birth_date)) ORDER BY e.id), '[]')
        FROM (SELECT e.id, e.gid, e.grade_level, e.class_group, e.person_id FROM enrollment e
              WHERE e.institution_id = page.id AND e.exit_date IS NULL
              ORDER BY e.id LIMIT $3) e
        JOIN person p ON p.id = e.person_id)))
     ORDER BY page.n) FILTER (WHERE page.n <= $2), '[]')))::text
FROM page
"""
)

# (c) a pupil's enrollment history with institution names.
HISTORY = """
SELECT json_build_object('node', json_build_object(
  'id', p.gid,
  'fullName', concat_ws(' ', nullif(p.last_name, ''), nullif(p.first_name, ''),
                        nullif(p.patronymic, '')),
  'enrollments', json_build_object(
     'totalCount', (SELECT count(*) FROM enrollment e WHERE e.person_id = p.id),
     'nodes', (SELECT coalesce(json_agg(json_build_object(
                 'id', e.gid, 'sector', upper(e.sector), 'entryDate', e.entry_date,
                 'exitDate', e.exit_date, 'exitReason', upper(e.exit_reason),
                 'gradeLevel', e.grade_level, 'programme', e.programme,
                 'institution', json_build_object('id', i.gid, 'name', i.name,
                                                  'kind', upper(i.kind)))
               ORDER BY e.entry_date DESC, e.id DESC), '[]')
               FROM (SELECT * FROM enrollment e WHERE e.person_id = p.id
                     ORDER BY e.entry_date DESC, e.id DESC LIMIT $2) e
               JOIN institution i ON i.id = e.institution_id))))::text
FROM person p WHERE p.id = $1
"""

# (e) current pupils per institution of a region, 100 a page.
PUPIL_COUNTS = (
    _PAGE
    + """
SELECT json_build_object('institutions', json_build_object(
  'pageInfo', json_build_object(
     'hasNextPage', count(*) > $2,
     'endCursor', (array_agg(jsonb_build_array(page.name, page.id)::text ORDER BY page.n)
                   FILTER (WHERE page.n <= $2))[least(count(*), $2)]),
  'nodes', coalesce(json_agg(json_build_object(
     'id', page.gid, 'name', page.name,
     'enrollments', json_build_object('totalCount', (
        SELECT count(*) FROM enrollment e
        WHERE e.institution_id = page.id AND e.exit_date IS NULL)))
     ORDER BY page.n) FILTER (WHERE page.n <= $2), '[]')))::text
FROM page
"""
)


def _key(global_id: str) -> int:
    return int(decode_id(global_id)[1])


def arguments(operation: str, variables: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The statement answering ``operation`` and its arguments."""
    if operation == "PersonById":
        return PERSON, (_key(variables["id"]),)
    if operation == "InstitutionsOfRegion":
        return INSTITUTIONS, (
            _key(variables["regionId"]),
            int(variables.get("first", 50)),
            int(variables.get("pupils", 20)),
        )
    if operation == "EnrollmentHistory":
        return HISTORY, (_key(variables["personId"]), int(variables.get("first", 50)))
    if operation == "PupilCounts":
        return PUPIL_COUNTS, (_key(variables["regionId"]), int(variables.get("first", 100)))
    raise KeyError(operation)


def operation_of(query: str) -> str:
    """The operation's name from its text (``query Name(...)``, after any comment lines)."""
    found = re.search(r"^\s*query\s+(\w+)", query, re.M)
    return found.group(1) if found else ""


class HandWritten:
    """The ASGI app: POST a GraphQL body, get the statement's JSON."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = orjson.loads(body)
        sql, args = arguments(operation_of(request["query"]), request.get("variables") or {})
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            text = await conn.fetchval(sql, *args)
        out = b'{"data":' + text.encode() + b"}"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(out)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": out})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                url = database.plain_url(os.environ["DATABASE_URL"])
                self.pool = await asyncpg.create_pool(url, min_size=4, max_size=4)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


app = HandWritten()
