"""Licensing's dossiers compiled (issue 21): the department's lists (``licenceApplications``,
``licences``: ``plan.SHAPED_ROOTS``), an application's page (``node`` of a
``LicenceApplication``: ``plan.SHAPED_NODES``, with its history, its addresses' districts and
its licence) and the public check of a licence by its number (``verifyLicence``, with the
licence it re-issued and the one re-issuing it; its number a free argument,
``plan.FREE_ARGUMENTS``, so one statement serves every number), each in one statement,
PostgreSQL writing the JSON the resolvers write (``schema/licensing/types.py``);
``daysLeft``/``overdue`` on Bishkek's date, an address's ``areaPerStudent`` rounded as Python
rounds it. The licence and accreditation kinds they share
are :mod:`schema.compiled.licensing`'s.

The caller is read in the applications' list statement (``applications_query``, the
resolvers' own) and in :func:`build_node` (``application_readable``, as
``LicenceApplicationByIdLoader``); licences, programme codes, districts and steps have no rule
of their own. Fields not described here (a register licence's ``replacedBy``, a licence
event's ``actor``, a licence's ``application`` ...) make the request take the resolvers; so do
partners' keys. ``tests/test_compiled_pages_licensing_lists.py``,
``tests/test_compiled_pages_licence_application.py`` and
``tests/test_compiled_pages_verify_licence.py`` compare both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Numeric,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION as Float

from models import (
    ApplicationAction,
    AppliedAs,
    DocumentKind,
    EducationLevel,
    Licence,
    LicenceAddress,
    LicenceApplication,
    LicenceApplicationStatus,
    LicenceApplicationStep,
    LicenceDocument,
    PremisesTenure,
    ProgrammeCode,
)
from resolvers.licensing import queries as licensing_queries
from resolvers.licensing.rules import application_readable
from schema.compiled.licensing import LICENCE, _levels
from schema.compiled.plan import Unsupported
from schema.compiled.sql import NULL_JSON, adapt, json_list, json_text, lit
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
    no_partners,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("licenceApplications", "licences", "verifyLicence")
NODES = ("LicenceApplication",)


def _float_text(x: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``float8`` as the hub's JSON (orjson) writes a Python float: the shortest text that
    reads back as the same double (PostgreSQL's output since 12), ``.0`` after a whole number.
    Fixed notation only: the fields written here are under 10^8 and, rounded to hundredths,
    either 0 or at least 0.01."""
    text = cast(x, Text)
    return json_text(case((x == func.trunc(x), text.op("||")(lit(".0"))), else_=text))


_TWO_62 = literal(2**62, Numeric)


def _round_hundredths(x: ColumnElement[Any]) -> ColumnElement[Any]:
    """Python's ``round(x, 2)`` of the double ``x`` (>= 0): the exact binary value rounded to
    hundredths, half to even (``round(0.125, 2) == 0.12``; ``2.675`` is stored below itself and
    rounds to 2.67), as a double. PostgreSQL's ``round(x::numeric, 2)`` reads ``x`` to 15
    digits and rounds half away from zero, so the exact value is taken apart here: its whole
    part and its fraction times 2^62 (both exact integers for ``x`` >= 2^-10; below that the
    answer is 0.0 either way)."""
    whole = func.trunc(x)
    fraction = cast((x - whole) * literal(float(2**62), Float), BigInteger)
    scaled = (cast(cast(whole, BigInteger), Numeric) * _TWO_62 + cast(fraction, Numeric)) * 100
    quotient = func.div(scaled, _TWO_62)
    twice_rest = (scaled - quotient * _TWO_62) * 2
    up = case(
        (twice_rest > _TWO_62, 1),
        (twice_rest < _TWO_62, 0),
        else_=func.mod(quotient, 2),
    )
    return cast(quotient + up, Float) / literal(100.0, Float)


def _area_per_student(a: FromClause) -> ColumnElement[Any]:
    """``LicenceAddress.area_per_student``: ``round(float(floor_area) / planned_students, 2)``."""
    per = cast(a.c.floor_area, Float) / cast(a.c.planned_students, Float)
    return _float_text(_round_hundredths(per))


def _days_left(app: FromClause) -> ColumnElement[Any]:
    """``LicenceApplication.days_left`` on Bishkek's date."""
    return case(
        (app.c.status == LicenceApplicationStatus.SUBMITTED, app.c.due_on - TODAY),
        (
            and_(
                app.c.status == LicenceApplicationStatus.AWAITING_DOCUMENTS,
                app.c.paused_on.is_not(None),
            ),
            app.c.due_on - app.c.paused_on,
        ),
        else_=null(),
    )


def _overdue(app: FromClause) -> ColumnElement[Any]:
    return and_(app.c.status == LicenceApplicationStatus.SUBMITTED, app.c.due_on < TODAY)


PROGRAMME_CODE = Kind(
    "ProgrammeCode",
    {
        "code": col("code"),
        "name": col("name"),
        "level": enum_of(EducationLevel, "level"),
        "medical": col("medical"),
        "accreditationRequired": col("accreditation_required"),
    },
)


def _programme_codes(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """The classifier entries of the row's ``programme_codes``, in their order, unknown codes
    left out (``ProgrammeCodeByCodeLoader.load_many``)."""
    codes = (
        func.unnest(src.c.programme_codes)
        .table_valued("code", with_ordinality="ord")
        .render_derived()
    )
    pc = ProgrammeCode.__table__.alias("li_code")
    element = PROGRAMME_CODE.json(builder, pc, nodes)
    return (
        select(json_list(element, codes.c.ord))
        .select_from(codes.join(pc, pc.c.code == codes.c.code))
        .correlate(src)
        .scalar_subquery()
    )


PROGRAMME_CODES = Relation(
    lambda shape, nodes: PROGRAMME_CODE.check(shape, nodes), _programme_codes
)


def _district(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``TeachingAddress.district``: the address's district (``DistrictByIdLoader``, no rule),
    written by the registry's compiled District; null when none is given."""
    return builder.object_by(
        "District", lambda d: d.c.id == src.c.district_id, nodes, correlate=src
    )


DISTRICT = Relation(lambda shape, nodes: shape.check_object("District", nodes), _district)

ADDRESS = Kind(
    "LicenceAddress",
    {
        "address": col("address"),
        "floorArea": lambda a: _float_text(cast(a.c.floor_area, Float)),
        "plannedStudents": col("planned_students"),
        "areaPerStudent": _area_per_student,
        "tenure": enum_of(PremisesTenure, "tenure"),
        "tenureFrom": col("tenure_from"),
        "tenureUntil": col("tenure_until"),
    },
    {"district": DISTRICT},
)
TEACHING_ADDRESS = Kind("TeachingAddress", {"address": col("address")}, {"district": DISTRICT})


def _address_index(d: FromClause) -> ColumnElement[Any]:
    """The 0-based place of the document's address among its application's addresses (by
    id), null when it names none of them."""
    a = LicenceAddress.__table__.alias("li_doc_address")
    earlier = (
        select(func.count())
        .where(a.c.application_id == d.c.application_id, a.c.id < d.c.address_id)
        .scalar_subquery()
    )
    own = (
        select(a.c.id)
        .where(a.c.application_id == d.c.application_id, a.c.id == d.c.address_id)
        .exists()
    )
    return case((own, earlier), else_=null())


DOCUMENT = Kind(
    "LicenceDocument",
    {
        "kind": enum_of(DocumentKind, "kind"),
        "fileName": col("file_name"),
        "mediaType": col("media_type"),
        "sizeBytes": col("size_bytes"),
        "sha256": col("sha256"),
        "storageKey": col("storage_key"),
        "attachedOn": col("attached_on"),
        "addressIndex": _address_index,
    },
)


def _addresses(kind: Kind, key: str) -> Relation:
    """``AddressesByLicenceApplicationLoader`` on the parent's column ``key``."""
    return many(
        kind,
        LicenceAddress.__table__,
        lambda a, parent: a.c.application_id == parent.c[key],
        lambda a: [a.c.id],
    )


APPLICATION_STEP = Kind(
    "LicenceApplicationStep",
    {
        "action": enum_of(ApplicationAction, "action"),
        "on": col("effective_on"),
        "at": timestamp("at"),
        "actor": col("actor"),
        "note": col("note"),
    },
)


def _register_licence() -> Kind:
    return REGISTER_LICENCE


def _licence_of_application(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``LicenceApplication.licence``: the first licence issued on the application (by id,
    ``LicenceByApplicationLoader``; licences have no rule), null when none."""
    lc = Licence.__table__.alias("li_app_licence")
    return (
        select(REGISTER_LICENCE.json(builder, lc, nodes))
        .where(lc.c.application_id == src.c.id)
        .order_by(lc.c.id)
        .limit(1)
        .correlate(src)
        .scalar_subquery()
    )


APPLICATION = Kind(
    "LicenceApplication",
    {
        "id": gid("LicenceApplication"),
        "appliedAs": enum_of(AppliedAs, "applied_as"),
        "applicant": col("applicant_subject"),
        "status": enum_of(LicenceApplicationStatus, "status"),
        "levels": _levels,
        "clinicalBase": col("clinical_base"),
        "submittedOn": col("submitted_on"),
        "dueOn": col("due_on"),
        "pausedOn": col("paused_on"),
        "requestedDocuments": col("requested_documents"),
        "decidedOn": col("decided_on"),
        "decisionReasons": col("decision_reasons"),
        "officerFiled": col("officer_filed"),
        "overdue": _overdue,
        "daysLeft": _days_left,
    },
    {
        "institution": institution("institution_id"),
        "programmes": PROGRAMME_CODES,
        "addresses": _addresses(ADDRESS, "id"),
        "documents": many(
            DOCUMENT,
            LicenceDocument.__table__,
            lambda d, app: d.c.application_id == app.c.id,
            lambda d: [d.c.id],
        ),
        # StepsByLicenceApplicationLoader's order: oldest first
        "history": many(
            APPLICATION_STEP,
            LicenceApplicationStep.__table__,
            lambda s, app: s.c.application_id == app.c.id,
            lambda s: [s.c.at, s.c.id],
        ),
        "licence": Relation(
            lambda shape, nodes: _register_licence().check(shape, nodes),
            _licence_of_application,
        ),
    },
)

# The register's licence: the licence's own fields and history, its institution, programmes
# and teaching addresses (public, L3).
REGISTER_LICENCE = Kind(
    "Licence",
    LICENCE.scalars,
    {
        **LICENCE.relations,
        "institution": institution("institution_id"),
        "programmes": PROGRAMME_CODES,
        "addresses": _addresses(TEACHING_ADDRESS, "application_id"),
    },
)

_KINDS = {"licenceApplications": APPLICATION, "licences": REGISTER_LICENCE}


def _licence_by(column: str, parent_key: str) -> Relation:
    """The first licence (by id) whose ``column`` is the parent's ``parent_key``
    (``LicenceReplacingLoader``; ``LicenceByIdLoader`` for a key), null when none."""

    def build(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
        lc = Licence.__table__.alias()
        return (
            select(LICENCE.json(builder, lc, nodes))
            .where(lc.c[column] == src.c[parent_key])
            .order_by(lc.c.id)
            .limit(1)
            .correlate(src)
            .scalar_subquery()
        )

    return Relation(lambda shape, nodes: LICENCE.check(shape, nodes), build)


# The public check of a licence by its number (``verifyLicence``, L3): the register's licence
# with the licence it re-issued and the one that re-issued it (their own fields and history).
VERIFIED_LICENCE = Kind(
    "Licence",
    REGISTER_LICENCE.scalars,
    {
        **REGISTER_LICENCE.relations,
        "replaces": _licence_by("id", "replaces_id"),
        "replacedBy": _licence_by("replaces_id", "id"),
    },
)


def free_value(argument: str, value: str) -> str | None:
    """``verifyLicence``'s number as the resolver compares it (``licence_by_number_query``:
    blanks folded, upper case), or None for a number longer than one may be (the resolver
    answers null without a look: the statement is built for that value)."""
    if len(value) > 40:
        return None
    return licensing_queries.number_of(value)


def _verify_licence(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """The licence of that number, public (no rule: anonymous callers too), null when none."""
    number = builder.args("Query", nodes[0])["number"]
    compared = free_value("number", number)
    if compared is None:
        return NULL_JSON
    lc = Licence.__table__.alias("li_verified")
    return (
        select(VERIFIED_LICENCE.json(builder, lc, nodes))
        .where(lc.c.number == compared)
        .scalar_subquery()
    )


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    if nodes[0].name.value == "verifyLicence":
        VERIFIED_LICENCE.check(shape, nodes)
        return
    check_connection(shape, _KINDS[nodes[0].name.value], nodes)


def _pk(value: Any, type_name: str) -> int | None:
    """A filter's ID as ``schema/licensing/queries.py`` reads it (a bad one: the resolvers'
    error)."""
    return query_pk(value, type_name) if value else None


def _statuses(flt: Any) -> tuple[Any, ...]:
    if flt is not None and flt.statuses is not None and len(flt.statuses) > 10:
        raise Unsupported("statuses")  # the resolvers' INVALID_INPUT
    return tuple(flt.statuses or ()) if flt is not None else ()


def _licence_applications(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    no_partners(builder)  # anonymous: the resolvers' UNAUTHENTICATED
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    stmt = licensing_queries.applications_query(
        builder.principal,
        licensing_queries.ApplicationFilter(
            statuses=_statuses(flt),
            institution_id=_pk(flt and flt.institution_id, "Institution"),
            region_id=_pk(flt and flt.region_id, "Region"),
        ),
    )
    if flt is not None and flt.overdue:
        # ``overdue_on=clock.today()``, on Bishkek's date as PostgreSQL reads it
        stmt = stmt.where(_overdue(LicenceApplication.__table__))
    ordering = licensing_queries.APPLICATION_ORDERINGS[args["order_by"].value]
    return connection(builder, APPLICATION, nodes, stmt, ordering, args)


def _licences_register(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    stmt = licensing_queries.licences_query(
        licensing_queries.LicenceFilter(
            statuses=_statuses(flt),
            institution_id=_pk(flt and flt.institution_id, "Institution"),
            region_id=_pk(flt and flt.region_id, "Region"),
            valid_on=flt.valid_on if flt else None,
            level=flt.level if flt else None,
        )
    )
    ordering = licensing_queries.LICENCE_ORDERINGS[args["order_by"].value]
    return connection(builder, REGISTER_LICENCE, nodes, stmt, ordering, args)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    if nodes[0].name.value == "licenceApplications":
        return _licence_applications(builder, nodes)
    if nodes[0].name.value == "verifyLicence":
        return _verify_licence(builder, nodes)
    return _licences_register(builder, nodes)


# --- an application's page: node(id:) of a LicenceApplication (plan.SHAPED_NODES) -----------


def check_node(shape: _Shape, type_name: str, nodes: Sequence[FieldNode]) -> None:
    """``node``'s selection as a ``LicenceApplication`` (``id`` is the Node's)."""
    APPLICATION.check(shape, nodes)


def build_node(
    builder: Builder, type_name: str, pk: int, nodes: Sequence[FieldNode]
) -> ColumnElement[Any]:
    """The application ``pk`` as ``LicenceApplicationByIdLoader`` reads it: under the
    application rule (licensing officers in scope, the ministry, the applicant: L2), null when
    the caller may not read it or there is none (anonymous callers too)."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    app = LicenceApplication.__table__.alias("li_application")
    readable = adapt(application_readable(builder.principal), app)
    return (
        select(APPLICATION.json(builder, app, nodes))
        .where(app.c.id == pk, readable)
        .scalar_subquery()
    )
