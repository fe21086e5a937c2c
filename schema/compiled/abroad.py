"""Study abroad's pages compiled (issue 21): ``foreignApplications`` (the officers' page: a
programme's candidates and their stage results) and ``foreignProgrammes`` (the public list:
programmes with their university and field rules), each in one statement, PostgreSQL writing
the JSON the resolvers write (``schema/abroad/``).

The caller is read in two places: the list's statement (``applications_query(principal, ...)``,
the resolvers' own) and :func:`_applicants` (the person rule the applicant's loader applies,
:func:`resolvers.people.rules.person_readable`). Fields not described here (``programme`` ...)
make the request take the resolvers. Programmes are public: read signed in or not, with no
row rule (a partner's key decides field by field: the resolvers).
``tests/test_compiled_pages_abroad.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ARRAY, ColumnElement, FromClause, String, Text, cast, func

from models import (
    ForeignApplicationStatus,
    ForeignFieldRule,
    ForeignStage,
    ForeignStageResult,
    StageDecision,
    StudyLevel,
)
from resolvers import abroad as abroad_service
from resolvers.people.rules import person_readable
from schema.compiled.plan import Unsupported
from schema.compiled.sql import json_text
from schema.compiled.workflow import (
    Column,
    Kind,
    check_connection,
    col,
    connection,
    enum_of,
    gid,
    institution,
    many,
    no_partners,
    person,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("foreignApplications", "foreignProgrammes")


def _applicants(builder: Builder) -> ColumnElement[bool]:
    """Who the caller reads as an applicant: the person rule (``PersonByIdLoader``)."""
    return person_readable(builder.principal)


def _decimal(name: str) -> Column:
    """A ``numeric`` as the ``Decimal`` scalar writes it (``str``: the scale kept)."""
    return lambda src: cast(src.c[name], Text)


STAGE_RESULT = Kind(
    "ForeignStageResult",
    {
        "stage": enum_of(ForeignStage, "stage"),
        "score": _decimal("score"),
        "decision": enum_of(StageDecision, "decision"),
        "reason": col("reason"),
        "decidedAt": timestamp("decided_at"),
    },
)


def _stage_results_of(r: FromClause, a: FromClause) -> ColumnElement[bool]:
    return r.c.application_id == a.c.id


APPLICATION = Kind(
    "ForeignApplication",
    {
        "id": gid("ForeignApplication"),
        "fieldOfStudy": col("field_of_study"),
        "schoolAverage": _decimal("school_average"),
        "stage": enum_of(ForeignStage, "stage"),
        "status": enum_of(ForeignApplicationStatus, "status"),
        "createdAt": timestamp("created_at"),
    },
    {
        "applicant": person("person_id", _applicants),
        "stageResults": many(
            STAGE_RESULT,
            ForeignStageResult.__table__,
            _stage_results_of,
            lambda r: [r.c.decided_at, r.c.id],
        ),
    },
)


# --- the public programme list (ForeignProgrammes) ----------------------------------------


def _stages(src: FromClause) -> ColumnElement[Any]:
    """``[ForeignStage(s) for s in stages]`` as GraphQL names: the stored values are the four
    stages' lower-case values (the table's check), so the array's text upper-cased is the array
    of names, and ``to_json`` writes it as the resolvers do (``["A","B"]``)."""
    names = cast(func.upper(cast(src.c.stages, Text)), ARRAY(String))
    return json_text(cast(func.to_json(names), Text))


FIELD_RULE = Kind(
    "ForeignFieldRule",
    {"fieldOfStudy": col("field_of_study"), "minAverage": _decimal("min_average")},
)

PROGRAMME = Kind(
    "ForeignProgramme",
    {
        "id": gid("ForeignProgramme"),
        "year": col("year"),
        "countryCode": col("country_code"),
        "name": col("name"),
        "level": enum_of(StudyLevel, "level"),
        "quota": col("quota"),
        "nominated": col("nominated"),
        "opensOn": col("opens_on"),
        "closesOn": col("closes_on"),
        "minAge": col("min_age"),
        "maxAge": col("max_age"),
        "ageOn": col("age_on"),
        "stages": _stages,
    },
    {
        "institution": institution("institution_id"),
        # FieldRulesByForeignProgrammeLoader's order (a field once per programme)
        "fieldRules": many(
            FIELD_RULE,
            ForeignFieldRule.__table__,
            lambda r, p: r.c.programme_id == p.c.id,
            lambda r: [r.c.field_of_study],
        ),
    },
)

_KINDS = {"foreignApplications": APPLICATION, "foreignProgrammes": PROGRAMME}


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    check_connection(shape, _KINDS[nodes[0].name.value], nodes)


def _programmes(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``foreignProgrammes``: public, read by applicants signed in or not."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    if flt is not None and flt.country_code is not None and len(flt.country_code) != 2:
        raise Unsupported("countryCode")  # the resolvers' INVALID_INPUT
    # as ``schema/abroad/queries.py`` reads the filter
    stmt = abroad_service.programmes_query(
        abroad_service.ForeignProgrammeFilter(
            country_code=flt.country_code if flt else None,
            year=flt.year if flt else None,
            level=flt.level if flt else None,
            open_on=flt.open_on if flt else None,
        )
    )
    ordering = abroad_service.PROGRAMME_ORDERINGS[args["order_by"].value]
    return connection(builder, PROGRAMME, nodes, stmt, ordering, args)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if nodes[0].name.value == "foreignProgrammes":
        return _programmes(builder, nodes)
    no_partners(builder)
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    # as ``schema/abroad/queries.py`` reads the filter (a bad ID: the resolvers' error)
    stmt = abroad_service.applications_query(
        builder.principal,
        abroad_service.ForeignApplicationFilter(
            programme_id=query_pk(flt.programme_id, "ForeignProgramme")
            if flt and flt.programme_id
            else None,
            person_id=query_pk(flt.person_id, "Person") if flt and flt.person_id else None,
            status=flt.status if flt else None,
        ),
    )
    ordering = abroad_service.APPLICATION_ORDERINGS["ID"]
    return connection(builder, APPLICATION, nodes, stmt, ordering, args)
