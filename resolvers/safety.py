"""The checks every GraphQL request passes before it runs, in one place.

The view (schema/http/view.py) authenticates the caller and resolves persisted queries through
:class:`Guard`; the :class:`RequestGuard` schema extension then, after parsing and validation
(depth, alias and token limits) and before execution: refuses introspection to anonymous
callers in production, binds portal clients to the allow-list, keeps a partner's key inside
its subgraph, estimates the cost and charges it to the caller's hourly budget (from the
worker's lease, see :class:`resolvers.cost.Ledger`), and sends a query operation's transaction
to the read replica when there is one. Afterwards it audits a partner's reading of personal
data. Bookkeeping (budgets, keys, persisted queries, partners' read audit) runs on its own
small pool on the primary, each in its own short transaction, so it holds when the request's
transaction rolls back and is not counted among the request's statements."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from models import AuditEntry, Outcome
from resolvers import cost as cost_service
from resolvers import persisted
from resolvers.access import Principal, Role
from resolvers.access import fields as scope
from resolvers.access import keys as api_keys
from resolvers.audit import redact, redact_variables
from resolvers.errors import ErrorCode, RequestError
from resolvers.faults import is_unavailable, unavailable_error
from resolvers.security import SecurityLog
from resolvers.settings import Settings

log = logging.getLogger("bilim.safety")

FORGET_EVERY = 10_000


@dataclass(frozen=True)
class CostReport:
    """``extensions.cost`` of a response, and what the ``rateLimit`` field shows."""

    requested: int
    node_count: int
    limit: int
    remaining: int
    reset_at: datetime | None

    def as_extension(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "nodeCount": self.node_count,
            "limit": self.limit,
            "remaining": self.remaining,
            "resetAt": _isoformat(self.reset_at) if self.reset_at else None,
        }


# A budget's reset time is one of a few a worker sees in an hour; formatting an aware datetime
# costs more than the rest of a cost report.
_isoformat = functools.lru_cache(maxsize=64)(datetime.isoformat)


def _asks_introspection(document: DocumentNode) -> bool:
    def walk(selection_set: SelectionSetNode | None) -> bool:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode) and sel.name.value in ("__schema", "__type"):
                return True
            if walk(getattr(sel, "selection_set", None)):
                return True
        return False

    return any(
        walk(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    )


class Guard:
    """The hub's safety machinery for one worker: key authentication, persisted queries,
    budgets and the pre-execution checks."""

    def __init__(self, settings: Settings, engine: AsyncEngine, pepper: bytes) -> None:
        self.settings = settings
        self.engine = engine
        self.pepper = pepper
        self.mode = settings.persisted_queries
        self.allow_list = persisted.AllowList.load(settings.portals_dir or persisted.PORTALS_DIR)
        self.store = persisted.PersistedStore(engine) if self.mode != "off" else None
        self.production = settings.environment == "production"
        self.ledger = cost_service.Ledger(engine)
        self.charges = 0
        # Refused writes and failed authentications (resolvers/security.py).
        self.security = SecurityLog(engine)

    # --- before parsing (the view) ---

    async def principal_from_key(self, value: str) -> Principal:
        async with self.engine.connect() as conn:
            return await api_keys.principal_from_key(conn, self.pepper, value)

    async def resolve_query(
        self, principal: Principal, query: str | None, extensions: dict[str, Any] | None
    ) -> str | None:
        return await persisted.resolve_query(
            self.mode,
            self.store,
            self.allow_list,
            query,
            extensions,
            max_bytes=self.settings.persisted_query_max_bytes,
        )

    def registration(
        self, principal: Principal, query: str | None, extensions: dict[str, Any] | None
    ) -> tuple[str, str] | None:
        """What the request would teach the persisted-query store once admitted."""
        return persisted.registration(self.mode, self.allow_list, principal, query, extensions)

    # --- after validation, before execution (the extension) ---

    def budget_of(self, principal: Principal, request: Any) -> tuple[str, int]:
        """Whose hourly budget a request spends, and its size."""
        if principal.grant is not None:
            return f"key:{principal.api_key_prefix}", principal.grant.points_per_hour
        if not principal.is_anonymous:
            return f"sub:{principal.role.value}:{principal.subject}"[
                :160
            ], self.settings.points_per_hour
        # The connection's peer, or the client a trusted proxy names: the server (bilim serve)
        # and app.py apply BILIM_TRUSTED_PROXIES to the request's client before it gets here.
        client = getattr(request, "client", None)
        address = client.host[:64] if client is not None and client.host else "unknown"
        return f"ip:{address}", self.settings.anonymous_points_per_hour

    async def admit(
        self,
        ctx: Any,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        query: str | None,
    ) -> None:
        """Refuse the operation (RequestError) unless the caller may run it and afford it."""
        principal: Principal = ctx.principal
        if self.production and principal.is_anonymous and _asks_introspection(document):
            raise RequestError(ErrorCode.INTROSPECTION_DISABLED, "Sign in to introspect the schema")
        if (
            self.mode == "allowlist"
            and persisted.is_portal_client(principal)
            and not self.allow_list.allows(query or "", document)
        ):
            raise RequestError(
                ErrorCode.OPERATION_NOT_ALLOWED,
                "Portal clients may send only the portals' published operations",
            )
        if principal.grant is not None:
            use = scope.fields_used(schema, document, variables)
            ctx.personal_read = scope.check_scope(
                schema,
                use,
                allowed=principal.grant.fields,
                personal_granted=principal.grant.personal_data,
            )
        estimate = cost_service.estimate(schema, document, operation_name, variables)
        subject, limit = self.budget_of(principal, ctx.request)
        if estimate.nodes > self.settings.max_nodes:
            # Refused, and still a point spent: a flood of refusals costs its sender.
            refused = await self.ledger.charge(subject=subject, points=1, limit=limit)
            ctx.cost = CostReport(
                estimate.points, estimate.nodes, limit, refused.remaining, refused.reset_at
            )
            raise RequestError(
                ErrorCode.QUERY_TOO_COSTLY,
                f"The query asks for up to {estimate.nodes:,} objects; the limit is "
                f"{self.settings.max_nodes:,}. Ask for smaller pages.",
            )
        charged = await self.ledger.charge(subject=subject, points=estimate.points, limit=limit)
        ctx.cost = CostReport(
            estimate.points, estimate.nodes, limit, charged.remaining, charged.reset_at
        )
        if not charged.granted:
            raise _over_budget(ctx, charged, estimate.points)
        self.charges += 1
        if self.charges % FORGET_EVERY == 0:
            await cost_service.forget_old_windows(self.engine)
        if ctx.persist is not None and self.store is not None:
            # Parsed, validated, checked and paid for: now the hub may learn the document.
            await self.store.put(*ctx.persist)

    async def charge_refusal(self, ctx: Any) -> RequestError | None:
        """Spend one point of the caller's budget on a request refused before its cost was
        known (it did not parse or validate, its input or persisted query was refused), so a
        flood of refusals costs its sender; RATE_LIMITED once the budget is spent."""
        subject, limit = self.budget_of(ctx.principal, ctx.request)
        charged = await self.ledger.charge(subject=subject, points=1, limit=limit)
        return None if charged.granted else _over_budget(ctx, charged, 1)

    async def audit_personal_read(self, ctx: Any, result: Any) -> None:
        """A partner read personal data: say who, with which key, what and how it went."""
        errors = list(getattr(result, "errors", None) or ())
        codes = sorted({str((e.extensions or {}).get("code")) for e in errors})
        principal: Principal = ctx.principal
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(AuditEntry).values(
                    request_id=ctx.request_id,
                    actor=principal.subject,
                    role=principal.role.value,
                    api_key_prefix=principal.api_key_prefix,
                    operation="access.personal_read",
                    operation_name=(ctx.operation_name or "")[:120] or None,
                    variables=redact(ctx.variables or {}),
                    outcome=Outcome.REJECTED if errors else Outcome.SUCCEEDED,
                    error_codes=codes,
                    details={"fields": sorted(ctx.personal_read)},
                )
            )
        log.info(
            "access.personal_read",
            extra={"event": "access.personal_read", "key": principal.api_key_prefix},
        )


def _over_budget(ctx: Any, charged: cost_service.Charge, points: int) -> RequestError:
    """RATE_LIMITED, with ``Retry-After`` on the response: when the caller's window resets."""
    if ctx.response is not None and hasattr(ctx.response, "headers"):
        wait = (charged.reset_at - datetime.now(charged.reset_at.tzinfo)).total_seconds()
        ctx.response.headers["retry-after"] = str(max(1, int(wait)))
    return RequestError(
        ErrorCode.RATE_LIMITED,
        f"This request costs {points} points; {charged.remaining} of "
        f"{charged.limit} remain until {charged.reset_at.isoformat()}",
    )


def operation_name_of(document: DocumentNode | None, name: str | None) -> str | None:
    if name or document is None:
        return name
    operation = get_operation_ast(document, None)
    return operation.name.value if operation is not None and operation.name else None


def _internal(request_id: str) -> GraphQLError:
    return GraphQLError(
        "Unexpected error; quote the request id when you report it",
        extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
    )


class RequestGuard(SchemaExtension):
    """Runs :meth:`Guard.admit` between validation and execution, reports ``extensions.cost``
    and audits partners' reading of personal data."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        guard: Guard | None = getattr(ctx, "guard", None)
        if guard is None or ec.graphql_document is None:
            yield
            return
        ctx.operation_name = operation_name_of(ec.graphql_document, ec.operation_name)
        operation = get_operation_ast(ec.graphql_document, ec.operation_name)
        ctx.operation_type = operation.operation.value if operation is not None else None
        ctx.variables = ec.variables
        if (operation is not None and operation.operation == OperationType.MUTATION) or (
            ctx.principal.grant is not None
        ):
            # Audited (every mutation, a partner's personal reads): kept redacted.
            ctx.variables = redact_variables(ec.schema._schema, ec.graphql_document, ec.variables)
        if operation is not None and operation.operation == OperationType.QUERY:
            ctx.read_from_replica()
        try:
            await guard.admit(
                ctx,
                ec.schema._schema,
                ec.graphql_document,
                ec.operation_name,
                ec.variables,
                ec.query,
            )
        except RequestError as err:
            ec.result = GraphQLExecutionResult(data=None, errors=[err])
            yield
            return
        except Exception as err:
            # Fail closed: without its checks the operation does not run.
            if is_unavailable(err):
                log.warning("safety.database_unavailable", extra={"request_id": ctx.request_id})
                failure = unavailable_error(ctx.request_id)
            else:
                log.exception("safety.guard_failed", extra={"request_id": ctx.request_id})
                failure = _internal(ctx.request_id)
            ec.result = GraphQLExecutionResult(data=None, errors=[failure])
            yield
            return
        yield
        if ctx.personal_read:
            await guard.audit_personal_read(ctx, ec.result)

    def get_results(self) -> dict[str, Any]:
        report: CostReport | None = getattr(self.execution_context.context, "cost", None)
        return {"cost": report.as_extension()} if report is not None else {}


def is_partner(principal: Principal) -> bool:
    return principal.role == Role.PARTNER
