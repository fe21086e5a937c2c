"""Study abroad's officers' page compiled (issue 21): ``foreignApplications`` (a programme's
candidates and their stage results) in one statement, PostgreSQL writing the JSON the
resolvers write (``schema/abroad/``).

The caller is read in two places: the list's statement (``applications_query(principal, ...)``,
the resolvers' own) and :func:`_applicants` (the person rule the applicant's loader applies,
:func:`resolvers.people.rules.person_readable`). Fields not described here (``programme`` ...)
make the request take the resolvers. ``tests/test_compiled_pages_abroad.py`` compares both
paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, FromClause, Text, cast

from models import ForeignApplicationStatus, ForeignStage, ForeignStageResult, StageDecision
from resolvers import abroad as abroad_service
from resolvers.people.rules import person_readable
from schema.compiled.workflow import (
    Column,
    Kind,
    check_connection,
    col,
    connection,
    enum_of,
    gid,
    many,
    no_partners,
    person,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("foreignApplications",)


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


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    check_connection(shape, APPLICATION, nodes)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
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
