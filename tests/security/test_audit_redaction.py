"""No personal value reaches the audit trail (issue 22.6). Every mutation the portals send
(portals/**/*.graphql) runs once with every input field filled, the personal ones with a
person's real-looking values (PIN, names, birth date, addresses, phone, birth certificate,
national test certificate, benefit proof) and the uploaded file with PINs in it; each writes
its audit row (refused or not), and no row holds any of those values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    parse,
    type_from_ast,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.access import Role
from resolvers.inputs import YEAR_NAME
from schema import schema
from tests.conftest import Hub
from tests.factories import gid

PORTALS = Path(__file__).resolve().parents[2] / "portals"

# What a person's records hold, by the input field that carries it. The test's own list (not
# the hub's rule, which it checks): a field of one of these names, in any input, gets the value.
PERSONAL_VALUES = {
    "pin": "21503201500123",
    "newPin": "21503201500987",
    "guardianPin": "11204198800456",
    "firstName": "Жаркынай",
    "lastName": "Осмонкулова",
    "patronymic": "Талантбековна",
    "birthDate": "2015-03-20",
    "registeredAddress": "ул. Токтогула 125, кв. 17",
    "address": "мкр. Асанбай 22, кв. 8",
    "contactPhone": "+996 555 123 456",
    "birthCertificate": "I-АН № 654321",
    "benefitProof": "МСЭК № 0042137",
    "certificateNumber": "ORT-2026-004217",
}
# The uploaded test results: certificate numbers and PINs.
UPLOAD = (
    b"certificate_number,year,pin,main_score,state_language_score,subject_math\n"
    b"ORT-2026-771199,2026,21503201577777,150,80,90\n"
)
UPLOADED_SECRETS = ["ORT-2026-771199", "21503201577777"]


def portal_mutations() -> list[tuple[str, str]]:
    """Every mutation the portals send: (its operation name, its document)."""
    found = []
    for path in sorted(PORTALS.rglob("*.graphql")):
        document = parse(path.read_text())
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                definition.operation.value == "mutation"
            ):
                assert definition.name is not None, path
                found.append((definition.name.value, path.read_text()))
    return found


def fill(gtype: Any, name: str, depth: int = 0) -> Any:
    """A value of input type ``gtype`` for a field or variable called ``name``: personal fields
    get a person's value, every other field something plain, every optional field too."""
    if isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    if isinstance(gtype, GraphQLList):
        item = gtype.of_type.of_type if isinstance(gtype.of_type, GraphQLNonNull) else gtype.of_type
        if getattr(item, "name", None) == "Upload":
            return []  # a list of files (homework) may be empty; single uploads get the file
        return [fill(gtype.of_type, name, depth + 1)]
    if isinstance(gtype, GraphQLInputObjectType):
        if depth > 4:
            return None
        return {key: fill(field.type, key, depth + 1) for key, field in gtype.fields.items()}
    if isinstance(gtype, GraphQLEnumType):
        return next(iter(gtype.values))
    assert isinstance(gtype, GraphQLScalarType), gtype
    if name in PERSONAL_VALUES:
        return PERSONAL_VALUES[name]
    # A value the edge refuses (resolvers/inputs.py: years 1900-2200) never reaches the
    # mutation, so it would leave no audit row to look into: years are calendar years.
    if gtype.name == "Int" and YEAR_NAME.match(name):
        return 2026
    return {
        "String": "обычный текст",
        "ID": gid("Person", 999_999),
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "Date": "2026-01-10",
        "DateTime": "2026-01-10T09:00:00+06:00",
        "Decimal": "4.5",
        "Upload": None,
        # a valid one: a malformed UUID fails GraphQL validation, before any audit
        "UUID": "5d1c8a52-3f5e-4b8e-9c1a-7e2b6f0d4a19",
    }.get(gtype.name, "обычный текст")


def variables_of(document: str) -> dict[str, Any]:
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    return {
        var.variable.name.value: fill(
            type_from_ast(schema._schema, var.type), var.variable.name.value
        )
        for var in operation.variable_definitions or ()
    }


async def send(hub: Hub, token: str, document: str, variables: dict[str, Any]) -> None:
    """Post the operation; a file variable goes as a multipart upload (GraphQL multipart)."""
    files = [path for path in _upload_paths(variables)]
    if not files:
        response = await hub.post(document, variables, token=token)
    else:
        operations = json.dumps({"query": document, "variables": variables})
        response = await hub.client.post(
            "/graphql",
            data={"operations": operations, "map": json.dumps({"0": files})},
            files={"0": ("ort.csv", UPLOAD, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text


def _upload_paths(variables: dict[str, Any]) -> list[str]:
    """Where the file goes: ``variables.input.file`` for the portals' one upload."""
    found = []
    for name, value in variables.items():
        if isinstance(value, dict) and "file" in value and value["file"] is None:
            found.append(f"variables.{name}.file")
    return found


async def audit_rows(engine: AsyncEngine) -> list[tuple[str | None, str]]:
    """Every audit row: its operation name and the whole row as text."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT operation_name, row_to_json(a)::text FROM audit_log a ORDER BY id")
        )
        return [(r[0], r[1]) for r in rows]


class TestNoPersonalValueInTheAuditTrail:
    async def test_every_portal_mutation_is_audited_without_personal_values(
        self, hub: Hub, engine: AsyncEngine
    ) -> None:
        # given every mutation the portals send, with a person's values in every field
        token = hub.token(Role.MINISTRY)
        mutations = portal_mutations()
        assert len(mutations) > 40

        # when each is sent
        for _, document in mutations:
            await send(hub, token, document, variables_of(document))

        # then each wrote its audit row
        rows = await audit_rows(engine)
        audited = {name for name, _ in rows}
        assert [name for name, _ in mutations if name not in audited] == []
        # and no row holds any of the values
        secrets = [*PERSONAL_VALUES.values(), *UPLOADED_SECRETS]
        for name, row in rows:
            # JSON text escapes nothing of these values but for non-ASCII: compare decoded
            stored = json.dumps(json.loads(row), ensure_ascii=False)
            leaked = [s for s in secrets if s in stored]
            assert leaked == [], (name, leaked, stored)

    async def test_a_personal_field_is_redacted_whatever_its_variable_is_called(
        self, hub: Hub, engine: AsyncEngine
    ) -> None:
        # given a document that passes the birth certificate and the test certificate in
        # variables named for nothing personal
        token = hub.token(Role.MINISTRY)
        document = """
        mutation Both($a: String!, $b: String!, $child: ID!) {
          applyForFirstGrade(input: {childId: $child, pin: "x", birthCertificate: $a,
                                     schoolId: $child, language: KY}) { userErrors { code } }
          applyToProgrammes(input: {seasonId: $child, personId: $child, certificateNumber: $b,
                                    choices: []}) { userErrors { code } }
        }"""
        variables = {
            "a": PERSONAL_VALUES["birthCertificate"],
            "b": PERSONAL_VALUES["certificateNumber"],
            "child": gid("Person", 1),
        }

        # when it is sent
        body = await hub.gql(document, variables, token=token)
        assert "errors" not in body, body

        # then both rows keep the id and not the certificates
        rows = [json.loads(row) for name, row in await audit_rows(engine) if name == "Both"]
        assert len(rows) == 2
        for row in rows:
            assert row["variables"] == {
                "a": "[personal]",
                "b": "[personal]",
                "child": gid("Person", 1),
            }
