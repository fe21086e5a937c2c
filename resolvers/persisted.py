"""Persisted queries: the automatic persisted-query protocol (a client sends the sha256 of a
document it sent once before) and the allow-list of the portals' own operations.

Modes (``BILIM_PERSISTED_QUERIES``): ``off`` refuses the protocol; ``apq`` serves it; in
``allowlist`` mode *portal clients* (callers without a token, guardians and pupils) may run only
the operations of ``portals/**/*.graphql``, by hash or by text; officers, staff, the ministry
and partners' keys may still send any operation their scope allows.

A document sent with its hash is stored only once the request is admitted: it parsed, validated
against the schema and passed the input checks, and its cost was charged to the caller's budget
(resolvers/safety.py), and only up to ``BILIM_PERSISTED_QUERY_MAX_BYTES`` (issue 22.9: a 99 kB
body that was not GraphQL was stored for anyone, uncharged)."""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.access import PERSONAL_ROLES, Principal
from resolvers.errors import ErrorCode, RequestError

PORTALS_DIR = Path(__file__).resolve().parent.parent / "portals"
CACHE_SIZE = 2_048


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def is_portal_client(principal: Principal) -> bool:
    """Callers the allow-list binds: no token, or an end user's token (guardian, pupil)."""
    return principal.is_anonymous or principal.role in PERSONAL_ROLES


MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def _plain_typename(selection: object) -> bool:
    """``__typename`` as a client adds it: no alias, arguments or directives."""
    return (
        isinstance(selection, FieldNode)
        and selection.name.value == "__typename"
        and selection.alias is None
        and not selection.arguments
        and not selection.directives
    )


class _StripTypename(Visitor):
    def enter_selection_set(self, node: SelectionSetNode, *_: object) -> SelectionSetNode | None:
        kept = tuple(s for s in node.selections if not _plain_typename(s))
        if not kept or len(kept) == len(node.selections):
            return None  # a set of only ``__typename`` keeps it (a set is never empty)
        return SelectionSetNode(selections=kept)


class _AddTypename(Visitor):
    """Apollo Client's ``addTypenameToDocument``: ``__typename`` last in every selection set
    but an operation's root, unless the set already asks for a ``__`` field."""

    def enter_selection_set(
        self, node: SelectionSetNode, _key: object, parent: object, *_: object
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        if isinstance(parent, FieldNode) and any(
            d.name.value == "export" for d in parent.directives or ()
        ):
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def normalized(document: DocumentNode) -> str:
    """A document's print without the ``__typename`` fields clients add (Apollo Client adds one
    to every selection set): the form in which the allow-list compares documents."""
    return print_ast(visit(document, _StripTypename()))


def as_apollo_sends(document: DocumentNode) -> str:
    """The text Apollo Client sends for a document: ``__typename`` added, printed as graphql-js
    prints (graphql-core's printer is its port), comments gone."""
    return print_ast(visit(document, _AddTypename()))


@dataclass(frozen=True)
class AllowList:
    """The portals' operations by the sha256 of their text and of the text Apollo Client sends
    for them (the ids of the published manifest), and by their normalised print (so a client
    that re-indents a listed document or adds ``__typename`` is still recognised)."""

    by_hash: dict[str, str]
    printed: frozenset[str]
    # The hashes of texts found listed by their print: a client sends the same few texts again
    # and again, and printing one costs about 0.3 ms of CPU.
    accepted: OrderedDict[str, None] = field(default_factory=OrderedDict, compare=False)

    @classmethod
    def load(cls, folder: Path) -> AllowList:
        """The folder's documents, parsed once per process while no file changes: every hub
        start loads them (about 0.2 s of CPU for 150 documents), and the test suite starts a
        hub for nearly every test."""
        stamps = tuple(
            (str(path), stat.st_mtime_ns, stat.st_size)
            for path in sorted(folder.rglob("*.graphql"))
            for stat in (path.stat(),)
        )
        by_hash, printed = _parsed_documents(stamps)
        return cls(by_hash=dict(by_hash), printed=printed)

    def allows(self, query: str, document: DocumentNode | None) -> bool:
        digest = sha256(query)
        if digest in self.by_hash or digest in self.accepted:
            return True
        if document is None or normalized(document) not in self.printed:
            return False
        self.accepted[digest] = None
        if len(self.accepted) > CACHE_SIZE:
            self.accepted.popitem(last=False)
        return True


@functools.lru_cache(maxsize=8)
def _parsed_documents(
    stamps: tuple[tuple[str, int, int], ...],
) -> tuple[dict[str, str], frozenset[str]]:
    """The allow-list's hashes and prints of the documents named by ``stamps`` (path,
    modification time and size: a changed file is read again)."""
    by_hash: dict[str, str] = {}
    printed: set[str] = set()
    for name, _mtime, _size in stamps:
        document = Path(name).read_text()
        parsed = parse(document)
        by_hash[sha256(document)] = document
        apollo = as_apollo_sends(parsed)
        by_hash[sha256(apollo)] = apollo
        printed.add(normalized(parsed))
    return by_hash, frozenset(printed)


def portals(folder: Path) -> list[str]:
    """The portals whose operations the folder holds (its sub-folders with documents)."""
    return sorted({p.relative_to(folder).parts[0] for p in folder.glob("*/**/*.graphql")})


def manifest(folder: Path) -> dict[str, Any]:
    """One portal's operations (``folder``) as Apollo's persisted query manifest (the format of
    ``@apollo/generate-persisted-query-manifest``): each operation's id is the sha256 of the
    text Apollo Client sends, so a client built with it sends ids the hub knows. One manifest
    per portal, as one per client app: two portals may name different operations alike."""
    operations = []
    for path in sorted(folder.rglob("*.graphql")):
        parsed = parse(path.read_text())
        body = as_apollo_sends(parsed)
        for definition in parsed.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                operations.append(
                    {
                        "id": sha256(body),
                        "name": definition.name.value,
                        "type": definition.operation.value,
                        "body": body,
                    }
                )
    operations.sort(key=lambda o: (o["name"], o["id"]))
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}


class PersistedStore:
    """APQ documents in PostgreSQL (every worker sees what one learned), cached in process:
    a hash names its document forever, so the cache never goes stale."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.cache: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        found = self.cache.get(digest)
        if found is not None:
            self.cache.move_to_end(digest)
            return found
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT document FROM persisted_query WHERE sha256 = :h"), {"h": digest}
            )
        if found is not None:
            self._remember(digest, found)
        return found

    async def put(self, digest: str, document: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO persisted_query (sha256, document) VALUES (:h, :d) "
                    "ON CONFLICT (sha256) DO NOTHING"
                ),
                {"h": digest, "d": document},
            )
        self._remember(digest, document)

    def _remember(self, digest: str, document: str) -> None:
        self.cache[digest] = document
        if len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256 a request names in ``extensions.persistedQuery``, if it names one."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    pq = extensions.get("persistedQuery")
    digest = pq.get("sha256Hash") if isinstance(pq, dict) else None
    version = pq.get("version", 1) if isinstance(pq, dict) else None
    if version != 1 or not isinstance(digest, str) or len(digest) != 64:
        raise RequestError(ErrorCode.BAD_REQUEST, "persistedQuery needs version 1 and a sha256Hash")
    digest = digest.lower()
    if any(c not in "0123456789abcdef" for c in digest):
        raise RequestError(ErrorCode.BAD_REQUEST, "sha256Hash is 64 hexadecimal digits")
    return digest


async def resolve_query(
    mode: str,
    store: PersistedStore | None,
    allow_list: AllowList | None,
    query: str | None,
    extensions: dict[str, Any] | None,
    *,
    max_bytes: int,
) -> str | None:
    """The document a request runs: its ``query``, or the one its persisted hash names."""
    digest = requested_hash(extensions)
    if digest is None:
        return query
    if mode == "off":
        raise RequestError(ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported")
    if query is not None:
        if sha256(query) != digest:
            raise RequestError(
                ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, "The query does not match its sha256Hash"
            )
        if len(query.encode()) > max_bytes:
            raise RequestError(
                ErrorCode.BAD_REQUEST, f"A persisted document is at most {max_bytes} bytes"
            )
        return query
    if allow_list is not None and digest in allow_list.by_hash:
        return allow_list.by_hash[digest]
    found = await store.get(digest) if store is not None else None
    if found is None:
        raise RequestError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
    return found


def registration(
    mode: str,
    allow_list: AllowList | None,
    principal: Principal,
    query: str | None,
    extensions: dict[str, Any] | None,
) -> tuple[str, str] | None:
    """The (hash, document) a request teaches the hub (Apollo's protocol: the document sent
    with its hash), to store once the request is admitted; None when it teaches nothing (no
    hash, a listed document, or a portal client in allow-list mode, who cannot teach)."""
    if mode == "off" or query is None:
        return None
    digest = requested_hash(extensions)
    if digest is None or (allow_list is not None and digest in allow_list.by_hash):
        return None
    if mode == "allowlist" and is_portal_client(principal):
        return None
    return digest, query
