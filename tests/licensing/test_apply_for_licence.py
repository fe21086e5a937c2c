"""Applying for a licence: the dossier and the rules checked at submission."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Institution,
    InstitutionKind,
    LicenceAddress,
    LicenceApplication,
    LicenceDocument,
    Ownership,
)
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_institution, make_licence_application
from tests.licensing.helpers import (
    ADDRESS_DOCUMENTS,
    APPLY_FOR_LICENCE,
    address,
    count,
    document,
    dossier,
    payload,
    today,
    topics,
)

SET_POLICY = """
mutation SetLicensingPolicy($input: SetLicensingPolicyInput!) {
  setLicensingPolicy(input: $input) { policy { year minAreaPerStudent reviewDays } userErrors { field code message } }
}
"""


async def _private_school(session: AsyncSession, **kwargs: Any) -> tuple[int, str]:
    school = await make_institution(
        session, name="Ала-Тоо лицей", ownership=Ownership.PRIVATE, **kwargs
    )
    await session.commit()
    return school.id, gid("Institution", school.id)


async def _nothing_written(session: AsyncSession) -> None:
    assert await count(session, LicenceApplication) == 0
    assert await count(session, LicenceAddress) == 0
    assert await count(session, LicenceDocument) == 0


def bad_dossiers() -> list[tuple[str, dict[str, Any], str, str]]:
    """Dossiers breaking one rule or input check each: (case, change, code, field)."""
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"addresses": [address(floor_area=800.0, students=300)]},
            "FLOOR_AREA_TOO_SMALL",
            "addresses.0.floorArea",
        ),
        (
            {"addresses": [address(until=today() + timedelta(days=365))]},
            "PREMISES_TENURE_TOO_SHORT",
            "addresses.0.tenureUntil",
        ),
        (
            {
                "documents": [
                    document("FIRE_SAFETY_OPINION", 0),
                    document("PREMISES_CONTRACT", 0),
                ]
            },
            "DOCUMENTS_MISSING",
            "addresses.0",
        ),
        ({"programmeCodes": ["HE-MEDICINE"]}, "CLINICAL_BASE_REQUIRED", "clinicalBase"),
        ({"addresses": [address(floor_area=-5.0)]}, "INVALID_INPUT", "addresses.0.floorArea"),
        ({"addresses": [address(floor_area=None)]}, "INVALID_INPUT", "addresses.0.floorArea"),
        ({"addresses": [address(students=0)]}, "INVALID_INPUT", "addresses.0.plannedStudents"),
        ({"addresses": []}, "INVALID_INPUT", "addresses"),
        ({"levels": []}, "INVALID_INPUT", "levels"),
        ({"programmeCodes": ["NO-SUCH-CODE"]}, "UNKNOWN_PROGRAMME", "programmeCodes"),
        (
            {"documents": [{**document("FIRE_SAFETY_OPINION", 0), "sha256": "abc"}]},
            "INVALID_INPUT",
            "documents.0.sha256",
        ),
        (
            {"documents": [document("FIRE_SAFETY_OPINION", 3)]},
            "INVALID_INPUT",
            "documents.0.addressIndex",
        ),
        ({"institutionId": gid("Person", 1)}, "INVALID_ID", "institutionId"),
    ]
    names = [
        "area-per-student",
        "tenure-too-short",
        "sanitary-opinion-missing",
        "medical-without-clinical-base",
        "negative-area",
        "missing-area",
        "no-students",
        "no-address",
        "no-level",
        "unknown-programme",
        "bad-hash",
        "document-of-no-address",
        "wrong-id-type",
    ]
    return [(n, *c) for n, c in zip(names, cases, strict=True)]


class TestApplyForLicence:
    async def test_school_admin_files_a_dossier_and_the_review_clock_starts(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private school and its administrator
        pk, school = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        # when the administrator applies
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school))
        # then the application is under review, due in the policy's 20 days
        assert result["userErrors"] == []
        app = result["application"]
        assert app["status"] == "SUBMITTED"
        assert app["dueOn"] == (today() + timedelta(days=20)).isoformat()
        assert app["daysLeft"] == 20
        assert app["overdue"] is False
        assert app["levels"] == ["PRIMARY", "BASIC", "SECONDARY"]
        assert app["addresses"][0]["areaPerStudent"] == 4.0
        assert {d["kind"] for d in app["documents"]} == set(ADDRESS_DOCUMENTS)
        assert all(d["addressIndex"] == 0 for d in app["documents"])
        assert [h["action"] for h in app["history"]] == ["SUBMITTED"]
        assert app["licence"] is None
        assert await topics(session) == ["licensing.application_submitted"]

    async def test_medical_programme_with_clinical_base_adds_its_level(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private university applying for general medicine with a clinical base
        pk, uni = await _private_school(session, kind=InstitutionKind.UNIVERSITY)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        values = dossier(
            uni,
            levels=["ADDITIONAL"],
            programmeCodes=["he-medicine"],
            clinicalBase="Национальный госпиталь, г. Бишкек",
            documents=[
                *[document(k, 0) for k in ADDRESS_DOCUMENTS],
                document("CLINICAL_BASE_AGREEMENT"),
            ],
        )
        # when it applies
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, values)
        # then the programme's level joins the scope
        assert result["userErrors"] == []
        app = result["application"]
        assert app["levels"] == ["HIGHER", "ADDITIONAL"]
        assert app["programmes"] == [{"code": "HE-MEDICINE", "level": "HIGHER", "medical": True}]

    async def test_state_school_is_exempt_and_says_so(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a state school (the foundation's default)
        school = await make_institution(session)
        await session.commit()
        # when someone applies for it
        result = await payload(
            hub,
            APPLY_FOR_LICENCE,
            "applyForLicence",
            ministry,
            dossier(gid("Institution", school.id)),
        )
        # then it is exempt, and nothing is written
        assert [e["code"] for e in result["userErrors"]] == ["LICENCE_EXEMPT"]
        await _nothing_written(session)

    async def test_a_rule_or_input_failure_is_typed_and_writes_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private school's administrator
        pk, school = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        for name, change, code, field in bad_dossiers():
            # when the dossier breaks one rule
            result = await payload(
                hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school, **change)
            )
            # then the error names it, and nothing is written
            assert result["application"] is None, name
            assert [(e["code"], e["field"]) for e in result["userErrors"]] == [(code, field)], name
            await _nothing_written(session)

    async def test_every_broken_rule_is_reported_at_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a dossier with two addresses, each failing a different rule
        pk, school = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        values = dossier(
            school,
            addresses=[address(floor_area=500.0, students=200), address(text="ул. Ибраимова, 3")],
            documents=[document(k, 0) for k in ADDRESS_DOCUMENTS],
        )
        # when submitted
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, values)
        # then both failures come back, each naming its rule
        errors = result["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [
            ("FLOOR_AREA_TOO_SMALL", "addresses.0.floorArea"),
            ("DOCUMENTS_MISSING", "addresses.1"),
        ]
        assert "3.00 m2 per student" in errors[0]["message"]
        assert "sanitary_opinion" in errors[1]["message"]
        await _nothing_written(session)

    async def test_the_ministrys_policy_for_the_year_decides_the_floor_area(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given the ministry raises this year's minimum to 5 m2 per student
        pk, school = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        policy = await payload(
            hub,
            SET_POLICY,
            "setLicensingPolicy",
            ministry,
            {
                "year": today().year,
                "reviewDays": 30,
                "minAreaPerStudent": 5,
                "minPremisesYears": 2,
                "requiredDocuments": list(ADDRESS_DOCUMENTS),
            },
        )
        assert policy["userErrors"] == []
        # when a dossier with 4 m2 per student is filed
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school))
        # then it falls short of the new figure
        assert [e["code"] for e in result["userErrors"]] == ["FLOOR_AREA_TOO_SMALL"]
        assert "5.00 m2" in result["userErrors"][0]["message"]

    async def test_only_the_ministry_sets_policy(self, hub: Hub) -> None:
        officer = hub.token(Role.LICENSING_OFFICER)
        values = {
            "year": 2027,
            "reviewDays": 20,
            "minAreaPerStudent": 3,
            "minPremisesYears": 2,
            "requiredDocuments": [],
        }
        result = await payload(hub, SET_POLICY, "setLicensingPolicy", officer, values)
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]

    async def test_a_second_open_application_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an application already under review
        pk, school = await _private_school(session)
        inst = await session.get(Institution, pk)
        assert inst is not None
        await make_licence_application(session, institution=inst)
        await session.commit()
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        # when another is filed
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school))
        # then it is refused
        assert [e["code"] for e in result["userErrors"]] == ["APPLICATION_PENDING"]
        assert await count(session, LicenceApplication) == 1

    async def test_another_schools_admin_cannot_apply(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two private schools
        _, school = await _private_school(session)
        other, _ = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{other}"])
        # when the other's administrator applies for the first
        result = await payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school))
        # then it is forbidden and nothing is written
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]
        await _nothing_written(session)

    async def test_anonymous_callers_cannot_apply(self, hub: Hub, session: AsyncSession) -> None:
        _, school = await _private_school(session)
        body = await hub.gql(APPLY_FOR_LICENCE, {"input": dossier(school)})
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


class TestConcurrentApplications:
    async def test_simultaneous_applications_leave_one_open_case(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private school's administrator sending the same application three times at once
        pk, school = await _private_school(session)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pk}"])
        # when the requests run in concurrent transactions
        results = await asyncio.gather(
            *(
                payload(hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(school))
                for _ in range(3)
            )
        )
        # then one application is open and the others are refused as pending
        codes = sorted(tuple(e["code"] for e in r["userErrors"]) for r in results)
        assert codes == [(), ("APPLICATION_PENDING",), ("APPLICATION_PENDING",)]
        assert await count(session, LicenceApplication) == 1
        assert await count(session, LicenceAddress) == 1
