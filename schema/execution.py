"""Several mutation fields in one document: each commits on its own, in order, and every
payload is true to what was committed.

graphql-core runs a mutation's root fields one after the other; this executor settles each one
(``resolvers.mutations.settle``) once its whole payload is complete, before the next starts:

* the payload completed without an error: the field's change is kept (its savepoint released);
* an error arose inside the payload (a list asked with ``first: 1000`` under the changed object,
  an unexpected fault), or the step itself failed unexpectedly: the field's change is rolled
  back, its attempt audited as ``ERROR``, and its payload answered again as a refusal (no
  object, a ``userErrors`` entry with the cause's code); ``errors`` carries the cause with its
  path;
* the field was refused before its step ran (the caller may not call it, a malformed argument):
  that is a refusal of the request, and GraphQL's rule for a non-null field applies: ``data`` is
  null and nothing of the request is kept (the view rolls back the fields settled before it and
  audits them as ``ERROR``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLObjectType, get_nullable_type
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.context import Context
from resolvers.errors import ErrorCode as HubCode
from resolvers.errors import Problem
from resolvers.faults import is_unavailable
from resolvers.mutations import MutationResult, settle
from schema.common import ErrorCode
from schema.fields import Payload

ROLLED_BACK = "Nothing of this change was kept: {cause} (see `errors`)"


def cause_code(error: GraphQLError) -> str:
    """The code a field's failure reaches the client with (before the error policy masks it)."""
    code = (error.extensions or {}).get("code")
    if code:
        return str(code)
    original = error.original_error
    if original is not None and is_unavailable(original):
        return HubCode.SERVICE_UNAVAILABLE.value
    return HubCode.INTERNAL_ERROR.value


def _is_refusal(error: GraphQLError, path: Path) -> bool:
    """An error of the field itself (not of its payload) that refuses the request: the caller
    may not call it, or an argument is malformed (not an unexpected fault)."""
    original = error.original_error
    return error.path == path.as_list() and (original is None or isinstance(original, GraphQLError))


class SettlingExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, settling each root mutation field as the module says."""

    def build_per_event_executor(self, payload: Any) -> Any:
        """A subscription event's executor, with a memo of collected subfields of its own.

        graphql-core's per-event executor is a shallow copy of the subscription's, so it shares
        the memo, which is keyed by the identity of each execution's field lists: every event
        of a long-lived subscription added entries that lived as long as its socket (with 2,000
        guardians following their applications, the worker grew ~45 MB in 6,000 events and its
        full collections grew with it: issue 18's commit-to-socket tail)."""
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def execute_fields_serially(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        ctx = self.context_value
        if path is not None or not isinstance(ctx, Context):
            return super().execute_fields_serially(
                parent_type, source_value, path, grouped_field_set, position_context
            )

        async def in_order() -> dict[str, Any]:
            results: dict[str, Any] = {}
            for response_name, field_details_list in grouped_field_set.items():
                if self.abort_signal is not None and self.abort_signal.aborted:
                    raise self.abort_error()
                field_path = Path(path, response_name, parent_type.name)
                value = await self._settled_field(
                    ctx, parent_type, source_value, field_details_list, field_path, position_context
                )
                if value is not Undefined:
                    results[response_name] = value
            return results

        return in_order()

    async def _settled_field(
        self,
        ctx: Context,
        parent_type: GraphQLObjectType,
        source_value: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Run one root field and settle its attempt; its value, or its payload answered again
        as a refusal when it failed."""
        since = len(ctx.attempts)
        errors = self.collected_errors.errors
        before = len(errors)
        try:
            value = self.execute_field(
                parent_type, source_value, field_details_list, path, position_context
            )
            if self.is_awaitable(value):
                value = await value
        except GraphQLError as error:
            if _is_refusal(error, path):
                await settle(ctx, since, failure=_code(cause_code(error)))
                raise
            self.collected_errors.add(error, path)
            return await self._rolled_back(
                ctx, since, error, parent_type, field_details_list, path, position_context
            )
        if len(errors) > before:
            return await self._rolled_back(
                ctx, since, errors[before], parent_type, field_details_list, path, position_context
            )
        await settle(ctx, since, failure=None)
        return value

    async def _rolled_back(
        self,
        ctx: Context,
        since: int,
        error: GraphQLError,
        parent_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Roll back the field's change and complete its payload again as a refusal."""
        code = cause_code(error)
        await settle(ctx, since, failure=_code(code))
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        assert field_def is not None
        payload_type: Any = get_nullable_type(field_def.type)
        origin = payload_type.extensions.get("strawberry-definition")
        payload_cls = getattr(origin, "origin", None)
        if not (isinstance(payload_cls, type) and issubclass(payload_cls, Payload)):
            raise error
        problem = Problem(code=_code(code), message=ROLLED_BACK.format(cause=code))
        payload = payload_cls.from_result(MutationResult(problems=[problem]))
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        completed = self.complete_value(
            field_def.type, field_details_list, info, path, payload, position_context
        )
        if self.is_awaitable(completed):
            completed = await completed
        return completed


def _code(code: str) -> Any:
    """The schema's ``ErrorCode`` member of that name (every hub-wide and domain code)."""
    try:
        return ErrorCode(code)
    except ValueError:
        return ErrorCode(HubCode.INTERNAL_ERROR.value)
