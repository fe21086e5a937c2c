"""Licensing's pages compiled (issue 21): the accreditation register (``accreditations``,
public once decided, L3) and an institution's licensing facts (``licenceRequired``,
``licence``, ``mayTeachToday``, ``accreditation``, ``programmes`` on the registry's
``Institution``: InstitutionLicensing) in one statement, PostgreSQL writing the JSON the
resolvers write (``schema/licensing/``, ``schema/institutions/types.py``), ``validToday`` on
Bishkek's date as :func:`resolvers.clock.today`. The department's lists and an application's
page are :mod:`schema.compiled.licence_dossiers` (its kinds use the licence kinds here).

The caller is read in two places: the list's statement (``accreditations_query(principal,
...)``, the resolvers' own) and :func:`_readable` (the accreditation rule the institution's
and programmes' accreditation loaders apply, :func:`resolvers.licensing.rules.
accreditation_readable`); licences, programmes, agencies and steps have no rule of their own.
Fields not described here (an agency's ``mayAccreditToday``, a programme's
``accreditation`` ...) make the request take the resolvers.
``tests/test_compiled_pages_licensing.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
)

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AccreditationStepRecord,
    InstitutionKind,
    InstitutionProgramme,
    Licence,
    LicenceAction,
    LicenceEvent,
    LicenceStatus,
)
from resolvers.licensing import queries as licensing_queries
from resolvers.licensing import rules as licensing_rules
from resolvers.licensing.rules import accreditation_readable
from schema.compiled.plan import Unsupported
from schema.compiled.sql import adapt, json_list, json_text, lit
from schema.compiled.workflow import (
    TODAY,
    Kind,
    Relation,
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


def _readable(builder: Builder, a: FromClause) -> ColumnElement[bool]:
    """The accreditations the caller reads, on the alias ``a``."""
    readable: ColumnElement[bool] = adapt(accreditation_readable(builder.principal), a)
    return readable


def _current_accreditation(
    builder: Builder, nodes: Sequence[FieldNode], where: Callable[[FromClause], Any], src: Any
) -> Any:
    """``Accreditation.current``: of the readable rows (newest first), the one in force
    today, else the newest."""
    a = Accreditation.__table__.alias("li_accreditation")
    return (
        select(ACCREDITATION.json(builder, a, nodes))
        .where(where(a), _readable(builder, a))
        .order_by(valid_today(a).desc(), a.c.id.desc())
        .limit(1)
        .correlate(src)
        .scalar_subquery()
    )


ACCREDITATION_OF_PROGRAMME = Relation(
    lambda shape, nodes: ACCREDITATION.check(shape, nodes),
    lambda b, src, nodes: _current_accreditation(
        b, nodes, lambda a: a.c.programme_id == src.c.id, src
    ),
)
PROGRAMME_OF_INSTITUTION = Kind(
    "InstitutionProgramme", PROGRAMME.scalars, {"accreditation": ACCREDITATION_OF_PROGRAMME}
)


def _levels(src: FromClause) -> ColumnElement[Any]:
    """Stored lower case, shown by enum name; an empty array, an empty list."""
    joined = func.upper(func.array_to_string(src.c.levels, lit(",")))
    return json_text(cast(func.to_json(func.string_to_array(joined, lit(","))), Text))


def licence_valid_today(lc: FromClause) -> ColumnElement[bool]:
    """``Licence.valid_today``: active, issued, not past its validity."""
    return and_(
        lc.c.status == LicenceStatus.ACTIVE,
        lc.c.issued_on <= TODAY,
        or_(lc.c.valid_until.is_(None), lc.c.valid_until >= TODAY),
    )


LICENCE_EVENT = Kind(
    "LicenceEvent",
    {
        "action": enum_of(LicenceAction, "action"),
        "on": col("effective_on"),
        "at": timestamp("at"),
        "reason": col("reason"),
        "legalBasis": col("legal_basis"),
    },
)
LICENCE = Kind(
    "Licence",
    {
        "id": gid("Licence"),
        "number": col("number"),
        "status": enum_of(LicenceStatus, "status"),
        "levels": _levels,
        "issuedOn": col("issued_on"),
        "validUntil": col("valid_until"),
        "endedOn": col("ended_on"),
        "validToday": licence_valid_today,
    },
    {
        "history": many(
            LICENCE_EVENT,
            LicenceEvent.__table__,
            lambda e, lc: e.c.licence_id == lc.c.id,
            lambda e: [e.c.at, e.c.id],
        )
    },
)


def _licences(lc: FromClause) -> list[Any]:
    """``LicencesByInstitutionLoader``'s order: the one in force (or suspended) first, then the
    most recent."""
    live = (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)
    return [case((lc.c.status.in_(live), 0), else_=1), lc.c.issued_on.desc(), lc.c.id.desc()]


def _licence_required(src: FromClause) -> ColumnElement[bool]:
    """:func:`resolvers.licensing.rules.licence_required` on the institution's row."""
    exempt = and_(
        src.c.kind.in_(sorted(licensing_rules.EXEMPT_KINDS)),
        src.c.ownership.in_(sorted(licensing_rules.EXEMPT_OWNERSHIPS)),
    )
    return and_(src.c.kind != InstitutionKind.FOREIGN_UNIVERSITY, ~exempt)


def check_field(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """A licensing field of ``Institution``: is its selection known here?"""
    name = nodes[0].name.value
    if name == "licence":
        LICENCE.check(shape, nodes)
    elif name == "accreditation":
        ACCREDITATION.check(shape, nodes)
    elif name == "programmes":
        PROGRAMME_OF_INSTITUTION.check(shape, nodes)


def build_field(
    builder: Builder, name: str, src: FromClause, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """A licensing field of the institution row ``src``."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    if name == "licenceRequired":
        return _licence_required(src)
    if name == "accreditation":
        return _current_accreditation(
            builder,
            nodes,
            lambda a: and_(
                a.c.institution_id == src.c.id, a.c.kind == AccreditationKind.INSTITUTIONAL
            ),
            src,
        )
    if name == "programmes":
        p = InstitutionProgramme.__table__.alias("li_programme")
        element = PROGRAMME_OF_INSTITUTION.json(builder, p, nodes)
        return (
            select(json_list(element, p.c.code))
            .where(p.c.institution_id == src.c.id)
            .correlate(src)
            .scalar_subquery()
        )
    lc = Licence.__table__.alias("li_licence")
    first = select(lc).where(lc.c.institution_id == src.c.id).order_by(*_licences(lc)).limit(1)
    if name == "licence":
        return (
            first.with_only_columns(LICENCE.json(builder, lc, nodes))
            .correlate(src)
            .scalar_subquery()
        )
    # mayTeachToday: exempt, or the first licence in force today
    in_force = first.with_only_columns(licence_valid_today(lc)).correlate(src).scalar_subquery()
    return or_(~_licence_required(src), func.coalesce(in_force, false()))


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """``accreditations``: does every field under it have a compiled form here?"""
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
