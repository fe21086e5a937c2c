"""The committed schema.graphql is what the code serves; CI fails when they drift apart."""

from pathlib import Path

from schema import schema
from schema.federation import client_sdl, federation_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    # given the schema the code builds
    served = client_sdl(schema)
    # when compared with the committed file
    committed = SCHEMA_FILE.read_text()
    # then they are the same (regenerate with `bilim export-schema --output schema.graphql`)
    assert committed == served, (
        "schema.graphql is stale: run `bilim export-schema --output schema.graphql`"
    )


def test_committed_federation_schema_matches_the_code() -> None:
    # the subgraph SDL a gateway composes (`bilim export-schema --federation`)
    committed = (SCHEMA_FILE.parent / "schema.federation.graphql").read_text()
    assert committed == federation_sdl(schema), (
        "schema.federation.graphql is stale: run "
        "`bilim export-schema --federation --output schema.federation.graphql`"
    )


def test_every_type_and_field_is_described() -> None:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
    )

    missing = []
    for name, gql_type in schema._schema.type_map.items():
        # the federation spec's own types (_Any, _Entity, _Service, link__*)
        if name.startswith(("_", "link__")) or name in {
            "String",
            "Int",
            "Float",
            "Boolean",
            "ID",
            "Date",
            "DateTime",
        }:
            continue
        if not gql_type.description:
            missing.append(name)
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in gql_type.fields.items():
                if not field.description and name not in {"Query", "Mutation"} | {"PageInfo"}:
                    missing.append(f"{name}.{field_name}")
        if isinstance(gql_type, GraphQLEnumType):
            continue
    assert not missing, f"undescribed: {missing}"
