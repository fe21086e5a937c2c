"""Licensing's pages compiled (issue 21): the accreditation register (``accreditations``,
public once decided, L3), an institution's licensing facts (``licenceRequired``,
``licence``, ``mayTeachToday``, ``accreditation``, ``programmes`` on the registry's
``Institution``: InstitutionLicensing), the department's lists (``licenceApplications``,
``licences``) and an application's page (``node`` of a ``LicenceApplication``, with its
history, its addresses' districts and its licence), each in one statement, PostgreSQL
writing the JSON the resolvers write (``schema/licensing/``, ``schema/institutions/types.py``),
``validToday`` on Bishkek's date as :func:`resolvers.clock.today`.

The caller is read in the lists' statements (``accreditations_query(principal, ...)``,
``applications_query``: the resolvers' own), in :func:`_readable` (the accreditation rule
the institution's and programmes' accreditation loaders apply,
:func:`resolvers.licensing.rules.accreditation_readable`) and in :func:`build_node`
(``application_readable``, as ``LicenceApplicationByIdLoader``); licences, programmes,
agencies, districts and steps have no rule of their own.
Fields not described here (an agency's ``mayAccreditToday``, a licence event's ``actor``
...) make the request take the resolvers.
``tests/test_compiled_pages_licensing.py`` and ``tests/test_compiled_pages_licensing_lists.py``
compare both paths' bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    false,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION as Float

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AccreditationStepRecord,
    ApplicationAction,
    AppliedAs,
    DocumentKind,
    EducationLevel,
    InstitutionKind,
    InstitutionProgramme,
    Licence,
    LicenceAction,
    LicenceAddress,
    LicenceApplication,
    LicenceApplicationStatus,
    LicenceApplicationStep,
    LicenceDocument,
    LicenceEvent,
    LicenceStatus,
    PremisesTenure,
    ProgrammeCode,
)
from resolvers.licensing import queries as licensing_queries
from resolvers.licensing import rules as licensing_rules
from resolvers.licensing.rules import accreditation_readable, application_readable
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
    no_partners,
    one,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("accreditations", "licenceApplications", "licences")
NODES = ("LicenceApplication",)


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


# --- the department's lists: licence applications and the licence register -----------------


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

_KINDS = {
    "accreditations": ACCREDITATION,
    "licenceApplications": APPLICATION,
    "licences": REGISTER_LICENCE,
}


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
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
    root = nodes[0].name.value
    if root == "licenceApplications":
        return _licence_applications(builder, nodes)
    if root == "licences":
        return _licences_register(builder, nodes)
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
