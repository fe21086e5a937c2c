"""Licensing's department lists (portals/licensing/LicenceApplications and Licences) are
answered by the compiled path in one statement, byte for byte as the resolvers answer them
(issue 21): applications read by licensing officers in scope, the ministry and the applying
institution's administrators (L2), the licence register public (L3); ``daysLeft`` and
``overdue`` on Bishkek's date, ``validToday`` too, an address's ``areaPerStudent`` rounded as
Python rounds it, a document's ``addressIndex``, the programmes in the dossier's order,
its history, its addresses' districts and its licence."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Integer, Numeric, column, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Ownership
from resolvers.clock import today
from schema.compiled.licence_dossiers import _area_per_student
from tests.factories import (
    BISHKEK,
    CHUY,
    gid,
    make_institution,
    make_licence,
    make_licence_address,
    make_licence_application,
    make_licence_document,
    make_person,
    make_programme_code,
)
from tests.test_compiled import Pair, pair
from tests.test_compiled_pages_licensing import licensing_callers

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[1] / "portals/licensing"
APPLICATIONS = (PORTAL / "LicenceApplications.graphql").read_text()
LICENCES = (PORTAL / "Licences.graphql").read_text()
APPLICATIONS_EVERYTHING = """
query Everything($filter: LicenceApplicationFilter, $after: String) {
  licenceApplications(first: 3, after: $after, filter: $filter, orderBy: ID) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id appliedAs applicant status levels clinicalBase submittedOn dueOn pausedOn
      requestedDocuments decidedOn decisionReasons officerFiled overdue daysLeft
      institution { id name kind region { id nameRu } }
      programmes { __typename code name level medical accreditationRequired }
      addresses { __typename address floorArea plannedStudents areaPerStudent tenure tenureFrom
                  tenureUntil district { id nameRu } }
      documents { __typename kind fileName mediaType sizeBytes sha256 storageKey attachedOn
                  addressIndex }
      history { action on at actor note }
      licence { __typename id number status validToday addresses { address } }
    }
  }
}
"""
LICENCES_EVERYTHING = """
query Everything($filter: LicenceFilter, $after: String) {
  licences(first: 2, after: $after, filter: $filter, orderBy: ISSUED_ON_DESC) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id number status validToday levels issuedOn validUntil endedOn
      institution { id name }
      programmes { code name level }
      addresses { __typename address }
      history { action on }
    }
  }
}
"""
# Floor areas and planned students whose area per student is a tie in decimal (2.675 is
# stored below itself, 0.125 exactly: half to even), a whole number, tiny or large.
AREAS = [
    ("26.75", 10), ("1.25", 10), ("1234.50", 100), ("1200", 300), ("1000.01", 3),
    ("99999999.99", 1), ("0.01", 7), ("0.05", 2), ("10", 4), ("7.77", 1),
]  # fmt: skip


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """Applications of Bishkek schools in every state (overdue, due later, awaiting
    documents, approved, refused), one of a Chuy school, with addresses, documents and
    programmes; licences of both, active, suspended, expired and revoked."""
    schools = [
        await make_institution(
            session, name=f'Лицей "Илим" \\ /\t😀 {i}', ownership=Ownership.PRIVATE,
            region_id=BISHKEK,
        )
        for i in range(3)
    ]  # fmt: skip
    school = schools[0]
    other = await make_institution(
        session, kind=InstitutionKind.UNIVERSITY, region_id=CHUY, district_id=None
    )
    codes = [await make_programme_code(session, name=f"Программа {i}") for i in range(3)]
    now = today()
    apps = [
        await make_licence_application(
            session, institution=school, submitted_on=now - timedelta(days=40),
            programme_codes=[codes[2].code, "NO-SUCH", codes[0].code],
        ),
        await make_licence_application(
            session, institution=schools[1], submitted_on=now - timedelta(days=3),
            clinical_base="Больница №1",
        ),
        await make_licence_application(
            session, institution=schools[2], status="awaiting_documents",
            submitted_on=now - timedelta(days=10), paused_on=now - timedelta(days=2),
            requested_documents="Санитарное заключение",
        ),
        await make_licence_application(
            session, institution=school, status="refused", decision_reasons="Мало площади",
        ),
        await make_licence_application(session, institution=other, applied_as="founder"),
    ]  # fmt: skip
    addresses = []
    for i, (area, students) in enumerate(AREAS):
        addresses.append(
            await make_licence_address(
                session,
                application=apps[i % 2],
                address=f"ул. Токтогула, {i}",
                floor_area=Decimal(area),  # type: ignore[arg-type]
                planned_students=students,
            )
        )
    for kind in ("fire_safety_opinion", "charter"):
        await make_licence_document(session, application=apps[0], kind=kind)
    docs = [await make_licence_document(session, application=apps[0], kind="sanitary_opinion")]
    docs[0].address_id = addresses[2].id  # the first application's second address of its own
    foreign = await make_licence_document(session, application=apps[1], kind="other")
    foreign.address_id = addresses[0].id  # an address of another application
    await make_licence(
        session,
        institution=school,
        programme_codes=[codes[1].code, codes[0].code],
        valid_until=now + timedelta(days=100),
    )
    await make_licence(session, institution=schools[1], status="suspended")
    await make_licence(session, institution=other, valid_until=now - timedelta(days=1))
    await make_licence(session, institution=other, status="revoked", issued_on=now)
    pupil = await make_person(session)
    await session.commit()
    return {"school": school, "other": other, "pupil": pupil, "codes": codes}


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    return licensing_callers(pair, arranged["school"].id, arranged["pupil"].id)


async def test_the_licence_applications_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a school's applications in every state, with their dossiers
    arranged = await _arrange(session)
    school = gid("Institution", arranged["school"].id)
    requests: list[tuple[str, dict[str, Any]]] = [
        (APPLICATIONS, {}),
        (APPLICATIONS, {"filter": {"institutionId": school}}),
        (APPLICATIONS, {"filter": {"regionId": gid("Region", CHUY)}}),
        (APPLICATIONS, {"filter": {"overdue": True}}),
        (APPLICATIONS, {"filter": {"statuses": ["SUBMITTED", "AWAITING_DOCUMENTS"]}}),
        (APPLICATIONS_EVERYTHING, {}),
    ]
    seen = {}
    for caller, headers in _callers(pair, arranged).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement (anonymous: the
            # resolvers' UNAUTHENTICATED)
            assert fast == slow, (caller, variables, fast, slow)
            if caller == "anonymous":
                assert fast["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                continue
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, variables, pair.counter.statements)
            if not variables:
                seen[caller] = fast["data"]["licenceApplications"]["totalCount"]
    # and officers read those in their scope, the ministry all, the school its own (L2)
    assert seen["ministry"] == 9  # five here and the four licences' dossiers
    assert seen["licensing officer of Bishkek"] == 6
    assert seen["admin of the school"] == 3
    assert seen["licensing officer of Chuy"] == 3
    assert seen["guardian"] == 0
    ministry = _callers(pair, arranged)["ministry"]
    page, _, _ = await pair.both(APPLICATIONS_EVERYTHING, {}, ministry)
    first = page["data"]["licenceApplications"]["nodes"][0]
    assert [p["code"] for p in first["programmes"]] == [
        arranged["codes"][2].code,
        arranged["codes"][0].code,
    ]
    per_student = [round(float(a) / n, 2) for a, n in [("1200", 300), *AREAS[0::2]]]
    assert [a["areaPerStudent"] for a in first["addresses"]] == per_student
    assert per_student[1:3] == [2.67, 12.35]  # 2.675 is stored below itself, 12.345 above
    assert sorted(
        d["addressIndex"] for d in first["documents"] if d["addressIndex"] is not None
    ) == [2]
    # every page after the first answers the same on both paths
    after = None
    while True:
        fast, slow, statements = await pair.both(
            APPLICATIONS_EVERYTHING, {"after": after}, ministry
        )
        assert fast == slow
        assert statements == 1
        info = fast["data"]["licenceApplications"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]


async def test_the_licence_register_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given licences in every state of two institutions
    arranged = await _arrange(session)
    requests: list[tuple[str, dict[str, Any]]] = [
        (LICENCES, {}),
        (LICENCES, {"filter": {"institutionId": gid("Institution", arranged["school"].id)}}),
        (LICENCES, {"filter": {"regionId": gid("Region", CHUY), "statuses": ["ACTIVE"]}}),
        (LICENCES, {"filter": {"validOn": str(today()), "level": "PRIMARY"}}),
        (LICENCES_EVERYTHING, {}),
    ]
    for caller, headers in _callers(pair, arranged).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement: the register is public (L3)
            assert fast == slow, (caller, variables, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, variables, pair.counter.statements)
            if not variables:
                assert fast["data"]["licences"]["totalCount"] == 4
    page, _, _ = await pair.both(LICENCES, {}, {})
    assert {n["validToday"] for n in page["data"]["licences"]["nodes"]} == {True, False}
    after = None
    while True:
        fast, slow, statements = await pair.both(LICENCES_EVERYTHING, {"after": after}, {})
        assert fast == slow
        assert statements == 1
        info = fast["data"]["licences"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]


async def test_bad_filters_partners_and_unknown_fields_take_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session)
    ministry = _callers(pair, arranged)["ministry"]
    for document in (APPLICATIONS, LICENCES):
        for variables in (
            {"filter": {"institutionId": gid("Person", 1)}},
            {"filter": {"regionId": "x"}},
            {"filter": {"statuses": ["REVOKED" if document is LICENCES else "SUBMITTED"] * 11}},
        ):
            fast, slow, _ = await pair.both(document, variables, ministry)
            assert fast == slow, variables
            assert "errors" in fast, variables
    for document, before, after in (
        (APPLICATIONS, "daysLeft", "daysLeft licence { history { actor } }"),
        (LICENCES, "issuedOn", "issuedOn replacedBy { id }"),
    ):
        unknown = document.replace(before, after)
        assert unknown != document
        fast, slow, statements = await pair.both(unknown, {}, ministry)
        assert fast == slow
        assert statements > 1


async def test_area_per_student_is_pythons_rounding(session: AsyncSession) -> None:
    """``round(float(floor_area) / planned_students, 2)`` as the hub writes it, for ties,
    near-ties and random dossiers."""
    rng = random.Random(21)
    cases = [(Decimal(a), n) for a, n in AREAS]
    for hundredths in range(1, 3000):  # every tie and near-tie of small dossiers
        cases.append((Decimal(hundredths) / 100, rng.choice((1, 2, 4, 8, 10, 20, 40, 3, 7))))
    for _ in range(3000):
        cases.append((Decimal(rng.randrange(1, 10**10)) / 100, rng.randrange(1, 5000)))
    table = values(
        column("floor_area", Numeric(10, 2)), column("planned_students", Integer), name="a"
    ).data(cases)
    rows = (await session.execute(select(_area_per_student(table)))).scalars().all()
    expected = [orjson.dumps(round(float(a) / n, 2)).decode() for a, n in cases]
    assert list(rows) == expected
