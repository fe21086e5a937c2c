"""Security events: every refused attempt to write and every failed authentication, recorded
where auditors read them (``securityEvents``), without letting a flood fill the disk.

An event says who (the caller's address, token subject or key prefix: the same name its hourly
budget has), what (the mutation's root fields or audited operation, or the kind of request), and
why (the code the caller got, and a word from a fixed list). Never a message, a variable or a
header's value: those may carry personal values or whatever an attacker typed.

Per worker, the first event of a (source, reason, why, action) in a minute is written at once,
in its own transaction on the bookkeeping pool (so it stays when the request rolls back); the
next ones of that minute are counted in memory and added to the row every few seconds. Past
:data:`SOURCES_PER_MINUTE` distinct rows in a minute, further sources are counted together
under the source ``*``: a flood from many addresses adds a bounded number of rows a minute."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, OperationType, get_operation_ast
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from models import SecurityEvent
from resolvers.access import Principal
from resolvers.access.errors import AccessCode
from resolvers.audit import can_read_audit
from resolvers.errors import ErrorCode
from resolvers.relay import Ordering

log = logging.getLogger("bilim.security")

SOURCES_PER_MINUTE = 200
FLUSH_SECONDS = 5.0
OVERFLOW = "*"

# Refusals worth an event when a caller tries to write; a partner leaving its subgraph is one
# whatever it asks (it probes its contract).
WRITE_REFUSALS: dict[str, str] = {
    ErrorCode.UNAUTHENTICATED: "anonymous_write",
    ErrorCode.FORBIDDEN: "not_allowed",
    ErrorCode.QUERY_TOO_COMPLEX: "too_complex",
    ErrorCode.QUERY_TOO_COSTLY: "too_costly",
    ErrorCode.RATE_LIMITED: "over_budget",
    ErrorCode.OPERATION_NOT_ALLOWED: "not_allow_listed",
    AccessCode.FIELD_NOT_IN_SCOPE: "outside_subgraph",
    AccessCode.PERSONAL_DATA_NOT_GRANTED: "personal_data_not_granted",
}
PARTNER_REFUSALS = frozenset({AccessCode.FIELD_NOT_IN_SCOPE, AccessCode.PERSONAL_DATA_NOT_GRANTED})

# Why a credential was refused, by the fixed messages of resolvers/access (tokens.py, keys.py)
# and of the view; a message not listed (one naming a role or scope) is ``bad_credential``.
CREDENTIAL_REFUSALS: dict[str, str] = {
    "The bearer token is malformed": "malformed_token",
    "The token's algorithm is not accepted": "token_algorithm",
    "The token was signed with an unknown key": "unknown_signing_key",
    "The token has expired": "expired_token",
    "The token is not valid yet": "token_not_yet_valid",
    "The token is for another audience": "token_audience",
    "The token is from another issuer": "token_issuer",
    "The token's signature or claims are invalid": "bad_token",
    "The token names an unknown role": "bad_token_claims",
    "The token's scope must be a list": "bad_token_claims",
    "The API key is malformed": "malformed_key",
    "The API key is not valid": "unknown_key",
    "The API key was revoked": "revoked_key",
    "The API key has expired": "expired_key",
    "Send a token or an API key, not both": "two_credentials",
    "Use 'Authorization: Bearer <token>'": "bad_scheme",
}

MUTATION_TEXT = re.compile(r"^\s*(?:#[^\n]*\n\s*)*mutation\b")


@dataclass(frozen=True)
class Event:
    """One refusal: who, for what, and why."""

    source: str
    role: str
    reason: str
    why: str
    action: str


Key = tuple[datetime, str, str, str, str, str]


@dataclass
class _Count:
    count: int
    last_at: datetime
    request_id: str | None


class SecurityLog:
    """A worker's security events, rate-limited as the module says."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        sources_per_minute: int = SOURCES_PER_MINUTE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.engine = engine
        self.sources_per_minute = sources_per_minute
        self.flush_seconds = flush_seconds
        self._minute: datetime | None = None
        self._written: set[Key] = set()
        self._pending: dict[Key, _Count] = {}

    async def record(self, event: Event, request_id: str | None) -> None:
        """Note one refusal: written at once if it is the first of its row this minute."""
        now = datetime.now(UTC)
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute, self._written = minute, set()
        key: Key = (minute, event.source, event.role, event.reason, event.why, event.action)
        if key not in self._written and len(self._written) >= self.sources_per_minute:
            key = (minute, OVERFLOW, OVERFLOW, event.reason, event.why, event.action)
        if key in self._written:
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = _Count(1, now, request_id)
            else:
                pending.count += 1
                pending.last_at = now
            return
        self._written.add(key)
        log.info(
            "security.refused",
            extra={"event": "security.refused", "reason": event.reason, "why": event.why},
        )
        await self._write([(key, _Count(1, now, request_id))])

    async def flush(self) -> None:
        """Add the counts noted since the last flush to their rows."""
        pending, self._pending = self._pending, {}
        if pending:
            await self._write(list(pending.items()))

    async def run(self) -> None:
        """Flush every few seconds, for as long as the worker runs."""
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()

    async def _write(self, rows: Sequence[tuple[Key, _Count]]) -> None:
        values = [
            {
                "minute": key[0],
                "source": key[1][:200],
                "role": key[2][:40],
                "reason": key[3][:60],
                "why": key[4][:60],
                "action": key[5][:200],
                "count": count.count,
                "first_at": count.last_at,
                "last_at": count.last_at,
                "request_id": count.request_id,
            }
            for key, count in rows
        ]
        stmt = pg_insert(SecurityEvent).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["minute", "source", "reason", "why", "action"],
            set_={
                "count": SecurityEvent.count + stmt.excluded.count,
                "last_at": func.greatest(SecurityEvent.last_at, stmt.excluded.last_at),
            },
        )
        try:
            async with self.engine.begin() as conn:
                await conn.execute(stmt)
        except Exception:
            # The database may be the reason (an outage): the counts are lost, not the request.
            log.warning(
                "security.events_not_written",
                exc_info=True,
                extra={"event": "security.events_not_written", "rows": len(values)},
            )


def source_of(ctx: Any, principal: Principal | None = None) -> str:
    """Who the caller is, as its budget names it (address, token subject or key)."""
    principal = principal or ctx.principal
    guard = getattr(ctx, "guard", None)
    if guard is not None:
        subject, _ = guard.budget_of(principal, getattr(ctx, "request", None))
        return str(subject)
    if principal.api_key_prefix:
        return f"key:{principal.api_key_prefix}"
    return f"sub:{principal.role.value}:{principal.subject}"


async def note(ctx: Any, *, reason: str, why: str, action: str) -> None:
    """Record one refusal of this request's caller (nothing outside the app: no guard)."""
    guard = getattr(ctx, "guard", None)
    security: SecurityLog | None = getattr(guard, "security", None)
    if security is None:
        return
    principal: Principal = ctx.principal
    event = Event(
        source=source_of(ctx),
        role=principal.role.value,
        reason=reason,
        why=why,
        action=action,
    )
    await security.record(event, getattr(ctx, "request_id", None))


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return str(code) if code else None


async def note_refusals(
    ctx: Any, errors: Iterable[GraphQLError], *, writes: bool, action: str
) -> None:
    """Record the refusals among a request's errors: every refusal of a request that writes, a
    partner's leaving its subgraph in any request."""
    for code in dict.fromkeys(filter(None, map(code_of, errors))):
        if code in PARTNER_REFUSALS or (writes and code in WRITE_REFUSALS):
            await note(ctx, reason=code, why=WRITE_REFUSALS[code], action=action)


async def note_credential_refused(ctx: Any, error: GraphQLError, *, action: str) -> None:
    """Record a refused token or key (the caller counts as anonymous: it is named by address)."""
    why = CREDENTIAL_REFUSALS.get(error.message, "bad_credential")
    await note(ctx, reason=code_of(error) or ErrorCode.UNAUTHENTICATED, why=why, action=action)


def action_of(document: DocumentNode, operation_name: str | None) -> tuple[bool, str]:
    """Whether an operation writes, and what it asks: its kind and root fields (names from the
    schema, never argument values), e.g. ``mutation registerPerson``."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return False, "query"
    kind = operation.operation
    fields = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    names = ",".join(sorted(fields))[:180]
    return kind == OperationType.MUTATION, f"{kind.value} {names}".strip()


def looks_like_mutation(query: object) -> bool:
    """Whether a document that could not be parsed (too many tokens) starts as a mutation."""
    return isinstance(query, str) and MUTATION_TEXT.match(query) is not None


# --- what auditors read ---------------------------------------------------------------------

EVENT_COLUMNS = tuple(SecurityEvent.__table__.c)
EVENT_ORDERING = Ordering(((SecurityEvent.id, True),))


def can_read_security_events(principal: Principal) -> bool:
    """May this principal read the security events? Whoever reads the audit trail."""
    return can_read_audit(principal)


@dataclass(frozen=True)
class EventFilter:
    """Filters of the security events; every field given narrows them."""

    source: str | None = None
    reason: str | None = None
    why: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def events_query(flt: EventFilter) -> Select[Any]:
    stmt: Select[Any] = select(*EVENT_COLUMNS)
    for column, value in (
        (SecurityEvent.source, flt.source),
        (SecurityEvent.reason, flt.reason),
        (SecurityEvent.why, flt.why),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(SecurityEvent.last_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(SecurityEvent.first_at < flt.until)
    return stmt
