"""University admission's officers' page compiled (issue 21): ``admissionApplications`` (a
programme's applicants by score, their recommended places) in one statement, PostgreSQL
writing the JSON the resolvers write (``schema/admission/``).

The caller is read in two places: the list's statement (``applications_query(principal, ...)``,
the resolvers' own) and :func:`_caller` (the applicant loader's rule,
:func:`resolvers.admission.rules.admission_person_readable`, and the offers loader's,
``offer_readable``). Fields not described here (``programme``, ``season``, ``testResult``,
an offer's ``programme`` or ``application`` ...) make the request take the resolvers.
``tests/test_compiled_pages_admission.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, FromClause, Text, and_, cast, func, select

from models import (
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    Funding,
    Intake,
    PlaceCategory,
    ProgrammePlaces,
    RoundStatus,
    SeasonStatus,
)
from resolvers import admission as admission_service
from resolvers.admission.rules import admission_person_readable, offer_readable
from schema.compiled.plan import Unsupported
from schema.compiled.sql import adapt, json_list, json_text
from schema.compiled.workflow import (
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
    person,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("admissionApplications", "programmes", "testResults")


@dataclass(frozen=True)
class _Rules:
    applicants: ColumnElement[bool]  # on Person
    offers: ColumnElement[bool]  # on AdmissionOffer


def _caller(builder: Builder) -> _Rules:
    """The caller's rules, as the resolvers' loaders apply them."""
    from models import Person

    principal = builder.principal
    return _Rules(
        applicants=admission_person_readable(principal, Person.id),
        offers=offer_readable(principal),
    )


ROUND = Kind(
    "AdmissionRound",
    {
        "id": gid("AdmissionRound"),
        "number": col("number"),
        "registrationOpens": col("registration_opens"),
        "registrationCloses": col("registration_closes"),
        "publicationOn": col("publication_on"),
        "confirmationOpens": col("confirmation_opens"),
        "confirmationCloses": col("confirmation_closes"),
        "status": enum_of(RoundStatus, "status"),
        "publishedAt": timestamp("published_at"),
    },
)

OFFER = Kind(
    "AdmissionOffer",
    {
        "id": gid("AdmissionOffer"),
        "category": enum_of(PlaceCategory, "category"),
        "rank": col("rank"),
        "totalScore": col("total_score"),
        "status": enum_of(AdmissionOfferStatus, "status"),
        "decidedAt": timestamp("decided_at"),
    },
    {"round": one(ROUND, AdmissionRound.__table__, lambda r, o: r.c.id == o.c.round_id)},
)


def _offers(builder: Builder, src: Any, nodes: Sequence[FieldNode]) -> Any:
    """The application's offers the caller may read, the latest round first (the loader's
    order)."""
    o = AdmissionOffer.__table__.alias("ad_offer")
    element = OFFER.json(builder, o, nodes)
    return (
        select(json_list(element, o.c.round_id.desc(), o.c.id))
        .where(and_(o.c.application_id == src.c.id, adapt(_caller(builder).offers, o)))
        .correlate(src)
        .scalar_subquery()
    )


def _kind(name: str) -> Kind:
    """A type defined below the application's (its season, its programme)."""
    kind: Kind = {"season": SEASON, "programme": PROGRAMME}[name]
    return kind


APPLICATION = Kind(
    "AdmissionApplication",
    {
        "id": gid("AdmissionApplication"),
        "preference": col("preference"),
        "funding": enum_of(Funding, "funding"),
        "grantCategory": enum_of(PlaceCategory, "grant_category"),
        "status": enum_of(ApplicationStatus, "status"),
        "mainScore": col("main_score"),
        "subjectScore": col("subject_score"),
        "creativeScore": col("creative_score"),
        "totalScore": col("total_score"),
        "roundNumber": col("round_number"),
        "createdAt": timestamp("created_at"),
    },
    {
        "applicant": person("person_id", lambda b: _caller(b).applicants),
        "offers": Relation(lambda shape, nodes: OFFER.check(shape, nodes), _offers),
        # seasons and programmes have no row rule (their loaders' none)
        "season": one(
            lambda: _kind("season"), AdmissionSeason.__table__, lambda s, a: s.c.id == a.c.season_id
        ),
        "programme": one(
            lambda: _kind("programme"),
            AdmissionProgramme.__table__,
            lambda p, a: p.c.id == a.c.programme_id,
        ),
    },
)

SEASON = Kind(
    "AdmissionSeason",
    {
        "id": gid("AdmissionSeason"),
        "year": col("year"),
        "intake": enum_of(Intake, "intake"),
        "name": col("name"),
        "status": enum_of(SeasonStatus, "status"),
        "maxChoices": col("max_choices"),
        "mainScoreMax": col("main_score_max"),
        "subjectScoreMax": col("subject_score_max"),
        "stateLanguageScoreMax": col("state_language_score_max"),
        "mainThreshold": col("main_threshold"),
        "subjectThreshold": col("subject_threshold"),
        "stateLanguageThreshold": col("state_language_threshold"),
        "studiesStart": col("studies_start"),
    },
)


# --- the programme catalogue (public: programmes and their places have no row rule) ---------

PLACES = Kind(
    "ProgrammePlaces",
    {
        "category": enum_of(PlaceCategory, "category"),
        "places": col("places"),
        "filled": col("filled"),
    },
)

PROGRAMME = Kind(
    "Programme",
    {
        "id": gid("Programme"),
        "code": col("code"),
        "name": col("name"),
        "fieldOfStudy": col("field_of_study"),
        "requiredSubjects": col("required_subjects"),
        "creativeTest": col("creative_test"),
        "programmeCode": col("programme_code"),
    },
    {
        "institution": institution("institution_id"),
        # PlacesByProgrammeLoader's order (one row per category)
        "places": many(
            PLACES,
            ProgrammePlaces.__table__,
            lambda pl, p: pl.c.programme_id == p.c.id,
            lambda pl: [pl.c.category],
        ),
    },
)


# --- an applicant's certificates (MyApplications) ---------------------------------------

SUBJECT_SCORE = Kind(
    "SubjectScore",
    {"subject": col("key"), "score": lambda e: json_text(cast(e.c.value, Text))},
)


def _subject_scores(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """``sorted(subject_scores.items())``: by subject, in code point order."""
    scores = func.jsonb_each(src.c.subject_scores).table_valued("key", "value").render_derived()
    element = SUBJECT_SCORE.json(builder, scores, nodes)
    return (
        select(json_list(element, scores.c.key.collate("C")))
        .select_from(scores)
        .correlate(src)
        .scalar_subquery()
    )


TEST_RESULT = Kind(
    "NationalTestResult",
    {
        "id": gid("NationalTestResult"),
        "certificateNumber": col("certificate_number"),
        "year": col("year"),
        "mainScore": col("main_score"),
        "stateLanguageScore": col("state_language_score"),
    },
    {
        "subjectScores": Relation(
            lambda shape, nodes: SUBJECT_SCORE.check(shape, nodes), _subject_scores
        ),
    },
)

_KINDS = {"admissionApplications": APPLICATION, "programmes": PROGRAMME, "testResults": TEST_RESULT}


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    check_connection(shape, _KINDS[nodes[0].name.value], nodes)


def _test_results(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``testResults``: the certificates the caller reads (signed in; partners' keys decide
    field by field, ``certificateNumber`` being personal)."""
    no_partners(builder)
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    number = flt.certificate_number if flt is not None else None
    if number is not None and len(number) > 20:
        raise Unsupported("certificateNumber")  # the resolvers' INVALID_INPUT
    stmt = admission_service.test_results_query(
        builder.principal,
        admission_service.TestResultFilter(
            year=flt.year if flt is not None else None,
            certificate_number=number,
            person_id=query_pk(flt.person_id, "Person") if flt and flt.person_id else None,
        ),
    )
    ordering = admission_service.TEST_RESULT_ORDERINGS[args["order_by"].value]
    return connection(builder, TEST_RESULT, nodes, stmt, ordering, args)


def _filter(flt: Any) -> admission_service.ApplicationFilter:
    """The list's filter as ``schema/admission/queries.py`` reads it."""
    if flt is None:
        return admission_service.ApplicationFilter()
    return admission_service.ApplicationFilter(
        season_id=query_pk(flt.season_id, "AdmissionSeason") if flt.season_id else None,
        person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
        programme_id=query_pk(flt.programme_id, "Programme") if flt.programme_id else None,
        statuses=tuple(flt.statuses or ()),
    )


def _programmes(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """``programmes``: public, read by applicants signed in or not."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")  # its key decides field by field
    args = builder.args("Query", nodes[0])
    flt = args.get("filter")
    if flt is not None and flt.name is not None and len(flt.name) > 100:
        raise Unsupported("name")  # the resolvers' INVALID_INPUT
    # as ``schema/admission/queries.py`` reads the filter (a bad ID: the resolvers' error)
    stmt = admission_service.programmes_query(
        admission_service.ProgrammeFilter(
            season_id=query_pk(flt.season_id, "AdmissionSeason") if flt and flt.season_id else None,
            institution_id=query_pk(flt.institution_id, "Institution")
            if flt and flt.institution_id
            else None,
            field_of_study=flt.field_of_study if flt else None,
            name=flt.name if flt else None,
        )
    )
    ordering = admission_service.PROGRAMME_ORDERINGS[args["order_by"].value]
    return connection(builder, PROGRAMME, nodes, stmt, ordering, args)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if nodes[0].name.value == "programmes":
        return _programmes(builder, nodes)
    if nodes[0].name.value == "testResults":
        return _test_results(builder, nodes)
    no_partners(builder)
    args = builder.args("Query", nodes[0])
    stmt = admission_service.applications_query(builder.principal, _filter(args.get("filter")))
    ordering = admission_service.APPLICATION_ORDERINGS[args["order_by"].value]
    return connection(builder, APPLICATION, nodes, stmt, ordering, args)
