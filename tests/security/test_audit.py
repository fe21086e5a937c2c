"""The audit trail: append-only in the database, what it records of a request, and the
auditor's query."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from resolvers.access import Role
from resolvers.audit import redact
from tests.conftest import Hub
from tests.factories import BISHKEK_LENIN, gid
from tests.people.helpers import error_codes

REGISTER = """
mutation RegisterChild($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code } }
}
"""

AUDIT_LOG = """
query Audit($filter: AuditLogFilter) {
  auditLog(first: 10, filter: $filter) {
    totalCount
    nodes { actor role operation operationName requestId outcome errorCodes variables targetId }
  }
}
"""

CHILD = {
    "pin": "21705201600123",
    "firstName": "Айбек",
    "lastName": "Сыдыков",
    "birthDate": "2016-05-17",
    "sex": "MALE",
    "registeredDistrictId": gid("District", BISHKEK_LENIN),
}


async def register(hub: Hub, token: str, request_id: str, **extra: object) -> dict[str, object]:
    response = await hub.client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": {**CHILD, **extra}}},
        headers={"authorization": f"Bearer {token}", "x-request-id": request_id},
    )
    return dict(response.json())


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ],
    )
    async def test_rows_cannot_be_changed_or_removed(
        self, hub: Hub, ministry: str, engine: AsyncEngine, statement: str
    ) -> None:
        # given an audit row
        await register(hub, ministry, "req-1")

        # when / then
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text(statement))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM audit_log")) == 1


class TestWhatIsRecorded:
    async def test_mutation_row_has_operation_name_redacted_variables_and_request_id(
        self, hub: Hub, ministry: str
    ) -> None:
        # when
        await register(hub, ministry, "req-42")

        # then
        auditor = hub.token(Role.AUDITOR)
        rows = await hub.data(AUDIT_LOG, {"filter": {"requestId": "req-42"}}, token=auditor)
        (row,) = rows["auditLog"]["nodes"]
        assert (row["operation"], row["operationName"], row["outcome"]) == (
            "people.register_person",
            "RegisterChild",
            "SUCCEEDED",
        )
        assert row["role"] == "ministry"
        assert row["targetId"].startswith("UGVyc29u")
        variables = row["variables"]
        assert variables["input"]["pin"] == "[personal]"
        assert variables["input"]["firstName"] == "[personal]"
        assert variables["input"]["sex"] == "MALE"

    def test_redaction_cuts_secrets_personal_values_and_sizes(self) -> None:
        value = {
            "password": "x",
            "X-Api-Key": "bk_1",
            "guardianPin": "1",
            "email": "a@b",
            "note": "n" * 1000,
            "ids": list(range(500)),
            "kind": "MOTHER",
        }
        kept = redact(value)
        assert kept["password"] == kept["X-Api-Key"] == "[secret]"
        assert kept["guardianPin"] == kept["email"] == "[personal]"
        assert len(kept["note"]) == 201
        assert len(kept["ids"]) == 50
        assert kept["kind"] == "MOTHER"


class TestAuditorQuery:
    async def test_auditor_filters_by_outcome_and_actor(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a success and a refusal (PIN taken)
        await register(hub, ministry, "req-a")
        await register(hub, ministry, "req-b")
        auditor = hub.token(Role.AUDITOR)

        # when
        rejected = await hub.data(AUDIT_LOG, {"filter": {"outcome": "REJECTED"}}, token=auditor)
        by_actor = await hub.data(AUDIT_LOG, {"filter": {"actor": "nobody"}}, token=auditor)
        everything = await hub.data(AUDIT_LOG, token=auditor)

        # then
        assert [r["requestId"] for r in rejected["auditLog"]["nodes"]] == ["req-b"]
        assert rejected["auditLog"]["nodes"][0]["errorCodes"] == ["PIN_TAKEN"]
        assert by_actor["auditLog"]["totalCount"] == 0
        assert [r["requestId"] for r in everything["auditLog"]["nodes"]] == ["req-b", "req-a"]

    @pytest.mark.parametrize("role", [Role.MINISTRY, Role.REGION_OFFICER, Role.GUARDIAN, None])
    async def test_only_auditors_read_the_trail(self, hub: Hub, role: Role | None) -> None:
        token = hub.token(role, scopes=["region:8"], person_id=1) if role else None
        body = await hub.gql(AUDIT_LOG, token=token)
        assert error_codes(body) == ["FORBIDDEN"]
