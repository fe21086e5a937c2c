"""First-grade enrollment's pages compiled (issue 21): ``firstGradeApplications`` (a school's
applications, catchment first; a guardian's applications) and ``firstGradeQuotas`` in one
statement, PostgreSQL writing the JSON the resolvers write (``schema/first_grade/``).

The caller is read in two places: the list's statement (``applications_query(principal, ...)``,
the resolvers' own: :func:`resolvers.first_grade.rules.application_readable`) and
:func:`_caller` (the children and guardians on them, the applicant loader's rule; the address,
hidden from the child's other guardian). Fields not described here (``addressDistrict``, a
quota's ``school`` or ``season`` ...) make the request take the resolvers.
``tests/test_compiled_pages_first_grade.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, select

from models import (
    BenefitStatus,
    FirstGradeApplication,
    FirstGradeApplicationEvent,
    FirstGradeQuota,
    FirstGradeStage,
    FirstGradeStatus,
    Language,
    RejectionReason,
)
from resolvers import first_grade as first_grade_service
from resolvers.first_grade.rules import application_readable
from schema.compiled.plan import Unsupported
from schema.compiled.sql import json_list
from schema.compiled.workflow import (
    BENEFIT_CATEGORY,
    SEASON,
    Caller,
    Kind,
    Relation,
    caller,
    check_connection,
    col,
    connection,
    contact,
    enrollment,
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

ROOTS = ("firstGradeApplications", "firstGradeQuotas")
FGA = FirstGradeApplication


def _caller(builder: Builder) -> Caller:
    """The caller's rules on this workflow's applications."""
    return caller(builder, FGA, application_readable)


STATUS_CHANGE = Kind(
    "FirstGradeStatusChange",
    {
        "status": enum_of(FirstGradeStatus, "status"),
        "at": timestamp("at"),
        "actor": col("actor"),
        "reason": col("reason"),
    },
)

APPLICATION = Kind(
    "FirstGradeApplication",
    {
        "id": gid("FirstGradeApplication"),
        "language": enum_of(Language, "language"),
        "gradeLevel": col("grade_level"),
        "finishedPreschoolProgramme": col("finished_preschool_programme"),
        "stage": enum_of(FirstGradeStage, "stage"),
        "birthCertificate": col("birth_certificate"),
        "catchment": col("catchment"),
        "benefitStatus": enum_of(BenefitStatus, "benefit_status"),
        "appliedAt": timestamp("applied_at"),
        "status": enum_of(FirstGradeStatus, "status"),
        "rejectionReason": enum_of(RejectionReason, "rejection_reason"),
    },
    {
        "address": Relation(
            lambda shape, nodes: None, lambda b, src, nodes: contact(_caller(b), src, "address")
        ),
        "child": person("child_id", lambda b: _caller(b).applicants),
        "guardian": person("guardian_id", lambda b: _caller(b).applicants),
        "school": institution("school_id"),
        "season": SEASON,
        "benefitCategory": BENEFIT_CATEGORY,
        "enrollment": enrollment("enrollment_id"),
        "statusHistory": many(
            STATUS_CHANGE,
            FirstGradeApplicationEvent.__table__,
            lambda e, a: e.c.application_id == a.c.id,
            lambda e: [e.c.id],
        ),
    },
)

QUOTA = Kind(
    "FirstGradeQuota",
    {
        "id": gid("FirstGradeQuota"),
        "gradeLevel": col("grade_level"),
        "language": enum_of(Language, "language"),
        "classes": col("classes"),
        "places": col("places"),
        "admitted": col("admitted"),
        "free": lambda q: q.c.places - q.c.admitted,
    },
)


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    if nodes[0].name.value == "firstGradeApplications":
        check_connection(shape, APPLICATION, nodes)
    else:
        QUOTA.check(shape, nodes)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if nodes[0].name.value == "firstGradeApplications":
        return _applications(builder, nodes)
    return _quotas(builder, nodes)


def _filter(flt: Any) -> first_grade_service.ApplicationFilter:
    """The list's filter as ``schema/first_grade/queries.py`` reads it (a bad ID is the
    resolvers' error: the request takes them)."""
    if flt is None:
        return first_grade_service.ApplicationFilter()
    return first_grade_service.ApplicationFilter(
        season_id=query_pk(flt.season_id, "IntakeSeason") if flt.season_id else None,
        school_id=query_pk(flt.school_id, "Institution") if flt.school_id else None,
        status=flt.status,
        grade_level=flt.grade_level,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


def _applications(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    no_partners(builder)
    args = builder.args("Query", nodes[0])
    stmt = first_grade_service.applications_query(builder.principal, _filter(args.get("filter")))
    ordering = first_grade_service.APPLICATION_ORDERINGS[args["order_by"].value]
    return connection(builder, APPLICATION, nodes, stmt, ordering, args)


def _quotas(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """:func:`resolvers.first_grade.quotas_query`'s rows (public figures), in its order."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")
    args = builder.args("Query", nodes[0])
    season = query_pk(args["season_id"], "IntakeSeason")
    school = query_pk(args["school_id"], "Institution")
    q = FirstGradeQuota.__table__.alias("fg_quota")
    return (
        select(json_list(QUOTA.json(builder, q, nodes), q.c.grade_level, q.c.language))
        .where(q.c.season_id == season, q.c.school_id == school)
        .scalar_subquery()
    )
