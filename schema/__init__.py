"""The one graph: every domain's Query and Mutation joined, with the safety extensions."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from resolvers import security
from resolvers.context import Info
from resolvers.errors import ErrorCode, RequestError
from resolvers.faults import is_unavailable, unavailable_error
from resolvers.safety import RequestGuard
from resolvers.settings import get_settings
from schema import (
    abroad,
    access,
    admission,
    analytics,
    content,
    enrollments,
    events,
    first_grade,
    geography,
    institutions,
    intake,
    library,
    licensing,
    lms,
    people,
    preschool,
)
from schema.common import Node
from schema.execution import SettlingExecutor
from schema.federation import declare_entities
from schema.node import resolve_node
from schema.validation import Validation, WithinLimits

log = logging.getLogger("bilim.graphql")

MAX_NODES = 100
# Messages of the limits' refusals (strawberry's token limiter gives no code of its own).
TOO_COMPLEX = re.compile(r"exceeds maximum operation depth|aliases found|more than \d+ tokens")


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Fetch any object by its global ID (null if unreadable).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        node: Node | None = await resolve_node(info.context, id)
        return node

    @strawberry.field(description="Fetch up to 100 objects by global ID, in order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise RequestError(ErrorCode.INVALID_INPUT, f"At most {MAX_NODES} ids")
        return [await resolve_node(info.context, i) for i in ids]


Query = merge_types(
    "Query",
    (
        NodeQuery,
        access.Query,
        geography.Query,
        people.Query,
        institutions.Query,
        enrollments.Query,
        intake.Query,
        preschool.Query,
        first_grade.Query,
        admission.Query,
        abroad.Query,
        licensing.Query,
        lms.Query,
        library.Query,
        content.Query,
        events.Query,
        analytics.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        people.Mutation,
        institutions.Mutation,
        enrollments.Mutation,
        intake.Mutation,
        preschool.Mutation,
        first_grade.Mutation,
        admission.Mutation,
        abroad.Mutation,
        licensing.Mutation,
        lms.Mutation,
        library.Mutation,
        content.Mutation,
        access.Mutation,
        events.Mutation,
        analytics.Mutation,
    ),
)
get_object_definition(Query, strict=True).description = "Everything a client can read."
get_object_definition(Mutation, strict=True).description = (
    "Every workflow step; each takes one `input`. Several fields in one document run in order, "
    "each kept on its own: a field whose payload fails is rolled back and answers with a user "
    "error; a field refused outright (not signed in, a malformed argument) refuses the whole "
    "document, and nothing of it is kept. CONFLICT (a lost race) may be sent again."
)


class ErrorPolicy(SchemaExtension):
    """Expected errors reach the client with their code; anything else is logged with the
    request id and masked (domain.md's rule: never leak internals, never a 500)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._public(e) for e in result.errors]

    def _public(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            if not (error.extensions or {}).get("code"):
                code = (
                    ErrorCode.QUERY_TOO_COMPLEX
                    if TOO_COMPLEX.search(error.message)
                    else ErrorCode.GRAPHQL_VALIDATION_FAILED
                )
                error.extensions = {**(error.extensions or {}), "code": code.value}
            return error
        if isinstance(original, GraphQLError):
            return error
        context: Any = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        if is_unavailable(original):
            log.warning(
                "graphql.database_unavailable",
                extra={"event": "graphql.database_unavailable", "request_id": request_id},
            )
            return unavailable_error(request_id, nodes=error.nodes, path=error.path)
        log.error(
            "graphql.unexpected_error",
            exc_info=(type(original), original, original.__traceback__),
            extra={"event": "graphql.unexpected_error", "request_id": request_id},
        )
        return GraphQLError(
            "Unexpected error; quote the request id when you report it",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
        )


class RefusalLog(SchemaExtension):
    """Records the refusals of a request as security events (resolvers/security.py): every
    refused attempt to write (not signed in, not allowed, too complex or costly, over budget, not
    on the allow-list), and a partner leaving its subgraph. Listed before the error policy, it
    sees the errors with their codes."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ec = self.execution_context
        result = ec.result
        if result is None or not result.errors:
            return
        writes, action = _what_is_asked(ec)
        await security.note_refusals(ec.context, result.errors, writes=writes, action=action)


def _what_is_asked(ec: ExecutionContext) -> tuple[bool, str]:
    """Whether the operation writes, and what it asks (``mutation registerPerson``)."""
    if ec.graphql_document is None:  # refused before it parsed (too many tokens)
        writes = security.looks_like_mutation(ec.query)
        return writes, "mutation" if writes else "query"
    return security.action_of(ec.graphql_document, ec.operation_name)


class BilimSchema(strawberry.federation.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business; unexpected ones are logged by ErrorPolicy.
        return None


# The depth, alias and field limits as a validation rule, for the compiled path (the schema
# checks them in its Validation extension, before graphql's own rules).
LIMIT_RULES: list[Any] = [WithinLimits]


def build_schema() -> strawberry.Schema:
    settings = get_settings()
    declare_entities()
    return BilimSchema(
        query=Query,
        # The newest version the gateways in use compose (tests/federation).
        federation_version="2.5",
        mutation=Mutation,
        execution_context_class=SettlingExecutor,
        subscription=events.Subscription,
        extensions=[
            RefusalLog,
            ErrorPolicy,
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Both caches live at module level in strawberry, shared by the fresh instances.
            lambda: ParserCache(maxsize=512),
            # The depth, alias and field limits first (resolvers/shape.py), then graphql's rules.
            lambda: Validation(maxsize=512),
            # After validation, before execution: scope, allow-list, cost and budget.
            RequestGuard,
        ],
        types=[
            geography.Region,
            geography.District,
            people.Person,
            people.Guardianship,
            people.StaffPosition,
            institutions.Institution,
            institutions.CatchmentArea,
            enrollments.Enrollment,
            intake.IntakeSeason,
            preschool.KindergartenApplication,
            preschool.KindergartenOffer,
            preschool.KindergartenVoucher,
            first_grade.FirstGradeApplication,
            first_grade.FirstGradeQuota,
            admission.AdmissionSeason,
            admission.AdmissionRound,
            admission.Programme,
            admission.NationalTestResult,
            admission.AdmissionApplication,
            admission.AdmissionOffer,
            abroad.ForeignProgramme,
            abroad.ForeignApplication,
            *licensing.NODE_TYPES,
            *lms.NODE_TYPES,
            *library.NODE_TYPES,
            *content.NODE_TYPES,
            access.ApiKey,
            access.AuditEntry,
            access.SecurityEvent,
            events.WebhookSubscription,
            events.WebhookDelivery,
        ],
    )


schema = build_schema()
