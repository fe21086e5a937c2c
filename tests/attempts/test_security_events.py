"""Refused attempts to write and failed authentications are security events (issue 22.5): who
or which address, what, why; where auditors read them; one row per source, reason and action a
minute, so a flood cannot fill the disk; never a personal value."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, Outcome, SecurityEvent, Sex
from resolvers.access import ALGORITHM, Role
from resolvers.access.keys import load_pepper
from resolvers.people.pin import make_pin
from resolvers.security import OVERFLOW, Event, SecurityLog
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub
from tests.factories import BISHKEK, BISHKEK_LENIN, gid, make_api_key, make_person
from tests.people.helpers import error_codes
from tests.security.conftest import with_key

BIRTH = date(2017, 4, 9)
PIN = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=3001)
NAME = "Уникальныйфамилия"

REGISTER = """
mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code } }
}
"""
EVENTS = """
query Events($filter: SecurityEventFilter) {
  securityEvents(first: 50, filter: $filter) {
    totalCount
    nodes { source role reason why action count requestId minute firstAt lastAt }
  }
}
"""


def person() -> dict[str, Any]:
    return {
        "pin": PIN,
        "firstName": "Бакыт",
        "lastName": NAME,
        "birthDate": BIRTH.isoformat(),
        "sex": "MALE",
    }


async def events(hub: Hub, **flt: Any) -> list[dict[str, Any]]:
    """The security events as an auditor reads them, oldest first."""
    data = await hub.data(EVENTS, {"filter": flt or None}, token=hub.token(Role.AUDITOR))
    nodes: list[dict[str, Any]] = data["securityEvents"]["nodes"]
    return nodes[::-1]


def what(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str, int]]:
    return [(r["source"], r["reason"], r["why"], r["action"], r["count"]) for r in rows]


class TestRefusedWrites:
    async def test_anonymous_mutation_is_recorded_by_address_without_personal_values(
        self, hub: Hub, engine: AsyncEngine
    ) -> None:
        # when someone without a token tries to register a person
        body = await hub.gql(REGISTER, {"input": person()})

        # then it is refused and recorded: the address, what, why
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert what(await events(hub)) == [
            ("ip:127.0.0.1", "UNAUTHENTICATED", "anonymous_write", "mutation registerPerson", 1)
        ]
        # and no personal value reached the table
        async with engine.connect() as conn:
            rows = (await conn.execute(select(SecurityEvent))).all()
        assert PIN not in str(rows)
        assert NAME not in str(rows)

    async def test_a_flood_adds_one_row_a_minute_with_its_count(self, hub: Hub) -> None:
        # when the same address sends forty anonymous mutations
        for _ in range(40):
            await hub.gql(REGISTER, {"input": person()})

        # then one row counts them all
        (row,) = await events(hub)
        assert (row["reason"], row["count"]) == ("UNAUTHENTICATED", 40)
        assert row["firstAt"] <= row["lastAt"]

    async def test_mutation_sent_by_get_is_refused_and_recorded(self, hub: Hub) -> None:
        response = await hub.client.get(
            "/graphql",
            params={"query": REGISTER, "variables": json.dumps({"input": person()})},
        )
        assert response.status_code == 405  # GraphQL over HTTP: Method Not Allowed
        assert what(await events(hub)) == [
            ("ip:127.0.0.1", "BAD_REQUEST", "mutation_over_get", "mutation over GET", 1)
        ]

    async def test_over_complex_mutation_is_recorded(self, hub: Hub, ministry: str) -> None:
        aliases = " ".join(
            f"a{i}: registerPerson(input: $input) {{ person {{ id }} }}" for i in range(40)
        )
        body = await hub.gql(
            f"mutation M($input: RegisterPersonInput!) {{ {aliases} }}",
            {"input": person()},
            token=ministry,
        )
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        ((source, reason, why, action, count),) = what(await events(hub))
        assert (reason, why, action, count) == (
            "QUERY_TOO_COMPLEX",
            "too_complex",
            "mutation registerPerson",
            1,
        )
        assert source.startswith("sub:ministry:")

    async def test_over_budget_mutation_is_recorded(self, settings: Settings) -> None:
        # given a budget of 15 points an hour; a mutation costs 11
        async with running_hub(settings.model_copy(update={"points_per_hour": 15})) as hub:
            ministry = hub.token(Role.MINISTRY)
            first = await hub.gql(REGISTER, {"input": person()}, token=ministry)
            assert "errors" not in first, first

            # when a second one comes within the hour
            second = await hub.gql(REGISTER, {"input": person()}, token=ministry)

            # then it is refused and recorded
            assert error_codes(second) == ["RATE_LIMITED"]
            assert [(r[1], r[2], r[3]) for r in what(await events(hub))] == [
                ("RATE_LIMITED", "over_budget", "mutation registerPerson")
            ]

    async def test_a_read_refused_to_an_anonymous_caller_is_no_event(self, hub: Hub) -> None:
        body = await hub.gql("{ persons(first: 1) { totalCount } }")
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert await events(hub) == []


class TestForbiddenWorkflowStep:
    async def test_is_recorded_even_when_its_request_is_rolled_back(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a guardian, who may not register people
        mother = await make_person(session, birth_date=date(1990, 1, 1))
        await session.commit()
        token = hub.token(Role.GUARDIAN, person_id=mother.id)
        six_languages = ["KY", "RU", "UZ", "TG", "EN", "KY"]
        document = """
        mutation Two($a: RegisterPersonInput!, $b: CreateInstitutionInput!) {
          a: registerPerson(input: $a) { userErrors { code } }
          b: createInstitution(input: $b) { userErrors { code } }
        }"""
        school = {
            "name": "Мектеп",
            "kind": "SCHOOL",
            "ownership": "STATE",
            "regionId": gid("Region", BISHKEK),
            "districtId": gid("District", BISHKEK_LENIN),
            "languages": six_languages,
        }

        # when her forbidden registration shares a request that is refused as malformed
        body = await hub.gql(document, {"a": person(), "b": school}, token=token)

        # then the request is rolled back, yet the refusal is recorded and audited
        assert body["data"] is None
        assert [(r[1], r[2], r[3]) for r in what(await events(hub))] == [
            ("FORBIDDEN", "refused_by_rule", "people.register_person")
        ]
        async with engine.connect() as conn:
            outcomes = list(
                await conn.scalars(
                    select(AuditEntry.outcome)
                    .where(AuditEntry.operation == "people.register_person")
                    .order_by(AuditEntry.id)
                )
            )
        assert outcomes == [Outcome.FORBIDDEN]


class TestFailedAuthentication:
    @pytest.mark.parametrize(
        ("kind", "why"),
        [("expired", "expired_token"), ("forged", "bad_token"), ("garbage", "malformed_token")],
    )
    async def test_refused_token_is_recorded_by_address(
        self, hub: Hub, kind: str, why: str
    ) -> None:
        now = int(time.time())
        claims = {
            "iss": hub.settings.jwt_issuer,
            "aud": hub.settings.jwt_audience,
            "iat": now - 7200,
            "nbf": now - 7200,
            "exp": now - 3600 if kind == "expired" else now + 600,
            "sub": "someone",
            "role": "ministry",
            "scope": [],
        }
        key = "another-secret-of-sufficient-length-0123456789"
        if kind == "expired":
            key = hub.keyring.keys[hub.keyring.active]
        token = (
            "not-a-token"
            if kind == "garbage"
            else jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": hub.keyring.active})
        )
        response = await hub.post(REGISTER, {"input": person()}, token=token)
        assert response.status_code == 401
        assert what(await events(hub)) == [("ip:127.0.0.1", "UNAUTHENTICATED", why, "mutation", 1)]

    async def test_unknown_api_key_is_recorded(self, hub: Hub) -> None:
        response = await hub.post(
            "{ regions(first: 1) { totalCount } }",
            headers={"x-api-key": "bk_t9999999_not-a-real-secret-at-all"},
        )
        assert response.status_code == 401
        assert what(await events(hub)) == [
            ("ip:127.0.0.1", "UNAUTHENTICATED", "unknown_key", "request", 1)
        ]

    async def test_partner_outside_its_subgraph_is_recorded_by_key(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        key_row, key = await make_api_key(
            session,
            pepper=load_pepper(hub.settings),
            allowed_fields=["Query.institutions", "Institution.name"],
        )
        await session.commit()
        response = await with_key(hub, key, "{ persons(first: 1) { nodes { sex } } }")
        assert error_codes(response.json()) == ["FIELD_NOT_IN_SCOPE"]
        assert what(await events(hub)) == [
            (
                f"key:{key_row.prefix}",
                "FIELD_NOT_IN_SCOPE",
                "outside_subgraph",
                "query persons",
                1,
            )
        ]


class TestReadingEvents:
    @pytest.mark.parametrize("role", [Role.MINISTRY, Role.REGION_OFFICER, Role.GUARDIAN, None])
    async def test_only_auditors_read_them(self, hub: Hub, role: Role | None) -> None:
        token = hub.token(role, scopes=["region:8"], person_id=1) if role else None
        body = await hub.gql(EVENTS, token=token)
        assert error_codes(body) == ["FORBIDDEN"]

    async def test_rows_only_count_up(self, hub: Hub, engine: AsyncEngine) -> None:
        await hub.gql(REGISTER, {"input": person()})
        await events(hub)
        async with engine.connect() as conn:
            for statement in (
                "UPDATE security_event SET source = 'ip:10.0.0.1'",
                "UPDATE security_event SET count = 0",
                "DELETE FROM security_event",
                "TRUNCATE security_event",
            ):
                with pytest.raises(DBAPIError, match="only counts"):
                    await conn.execute(text(statement))
                await conn.rollback()
            await conn.execute(text("UPDATE security_event SET count = count + 1"))


class TestRateLimit:
    async def test_sources_past_the_cap_are_counted_together(self, engine: AsyncEngine) -> None:
        # given a log that writes at most three sources a minute
        log = SecurityLog(engine, sources_per_minute=3)

        # when ten addresses are refused, twice each
        for _ in range(2):
            for n in range(10):
                event = Event(
                    source=f"ip:198.51.100.{n}",
                    role="anonymous",
                    reason="UNAUTHENTICATED",
                    why="anonymous_write",
                    action="mutation registerPerson",
                )
                await log.record(event, f"req-{n}")
        await log.flush()

        # then three rows name their address and one counts the rest; nothing is lost
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(SecurityEvent.source, SecurityEvent.count).order_by(SecurityEvent.id)
                )
            ).all()
            total = await conn.scalar(select(func.sum(SecurityEvent.count)))
        assert [tuple(r) for r in rows] == [
            ("ip:198.51.100.0", 2),
            ("ip:198.51.100.1", 2),
            ("ip:198.51.100.2", 2),
            (OVERFLOW, 14),
        ]
        assert total == 20
