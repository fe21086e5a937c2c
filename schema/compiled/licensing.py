"""Licensing's accreditation register compiled (issue 21): ``accreditations`` (public once
decided, L3) in one statement, PostgreSQL writing the JSON the resolvers write
(``schema/licensing/``), ``validToday`` on Bishkek's date as :func:`resolvers.clock.today`.

The caller is read in one place: the list's statement (``accreditations_query(principal,
...)``, the resolvers' own, :func:`resolvers.licensing.rules.accreditation_readable`); the
institution, programme, agency and steps under an accreditation have no rule of their own.
Fields not described here (an agency's ``mayAccreditToday``, a programme's
``accreditation`` ...) make the request take the resolvers.
``tests/test_compiled_pages_licensing.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, FromClause, and_, or_

from models import (
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AccreditationStepRecord,
    InstitutionProgramme,
)
from resolvers.licensing import queries as licensing_queries
from schema.compiled.plan import Unsupported
from schema.compiled.workflow import (
    TODAY,
    Kind,
    check_connection,
    col,
    connection,
    enum_of,
    gid,
    institution,
    many,
    one,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("accreditations",)


def valid_today(a: FromClause) -> ColumnElement[bool]:
    """``Accreditation.valid_today``: accredited, and today within its validity."""
    return and_(
        a.c.outcome == AccreditationOutcome.ACCREDITED,
        a.c.valid_from.is_not(None),
        a.c.valid_from <= TODAY,
        or_(a.c.valid_until.is_(None), a.c.valid_until >= TODAY),
    )


AGENCY = Kind(
    "AccreditationAgency",
    {
        "id": gid("AccreditationAgency"),
        "name": col("name"),
        "countryCode": col("country_code"),
        "onNationalRegister": col("on_national_register"),
        "onEuropeanRegister": col("on_european_register"),
        "recognisedOn": col("recognised_on"),
        "recognisedUntil": col("recognised_until"),
    },
)
PROGRAMME = Kind(
    "InstitutionProgramme",
    {"id": gid("InstitutionProgramme"), "code": col("code"), "name": col("name")},
)
STEP = Kind(
    "AccreditationStepRecord",
    {
        "step": enum_of(AccreditationStep, "step"),
        "outcome": enum_of(AccreditationOutcome, "outcome"),
        "on": col("effective_on"),
        "at": timestamp("at"),
        "note": col("note"),
    },
)
ACCREDITATION = Kind(
    "Accreditation",
    {
        "id": gid("Accreditation"),
        "kind": enum_of(AccreditationKind, "kind"),
        "step": enum_of(AccreditationStep, "step"),
        "outcome": enum_of(AccreditationOutcome, "outcome"),
        "decidedOn": col("decided_on"),
        "validFrom": col("valid_from"),
        "validUntil": col("valid_until"),
        "validToday": valid_today,
    },
    {
        "institution": institution("institution_id"),
        "programme": one(
            PROGRAMME, InstitutionProgramme.__table__, lambda p, a: p.c.id == a.c.programme_id
        ),
        "agency": one(AGENCY, AccreditationAgency.__table__, lambda g, a: g.c.id == a.c.agency_id),
        "history": many(
            STEP,
            AccreditationStepRecord.__table__,
            lambda s, a: s.c.accreditation_id == a.c.id,
            lambda s: [s.c.at, s.c.id],
        ),
    },
)


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    check_connection(shape, ACCREDITATION, nodes)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    if flt is not None and flt.outcomes is not None and len(flt.outcomes) > 10:
        raise Unsupported("outcomes")  # the resolvers' INVALID_INPUT
    # as ``schema/licensing/queries.py`` reads the filter (a bad ID: the resolvers' error)
    stmt = licensing_queries.accreditations_query(
        builder.principal,
        licensing_queries.AccreditationFilter(
            institution_id=query_pk(flt.institution_id, "Institution")
            if flt and flt.institution_id
            else None,
            agency_id=query_pk(flt.agency_id, "AccreditationAgency")
            if flt and flt.agency_id
            else None,
            kind=flt.kind if flt else None,
            outcomes=tuple(flt.outcomes or ()) if flt else (),
            valid_on=flt.valid_on if flt else None,
        ),
    )
    ordering = licensing_queries.ACCREDITATION_ORDERINGS[args["order_by"].value]
    return connection(builder, ACCREDITATION, nodes, stmt, ordering, args)
