"""The licence is enforced where learners are admitted: enrollments and transfers into an
institution that needs a licence and has none in force are refused with LICENCE_REQUIRED;
suspension stops new admissions at once and leaves current pupils enrolled. The guards other
admission paths call are exercised here too."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import EducationLevel, Enrollment, InstitutionKind, Ownership
from resolvers import licensing as licensing_service
from resolvers.access import Role
from resolvers.admission.errors import AdmissionCode
from resolvers.errors import DomainError
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_accreditation,
    make_accreditation_agency,
    make_enrollment,
    make_institution,
    make_institution_programme,
    make_licence,
    make_person,
)
from tests.licensing.helpers import RESTORE, SUSPEND, count, payload, today

ENROLL = """
mutation EnrollStudent($input: EnrollStudentInput!) {
  enrollStudent(input: $input) { enrollment { id isCurrent } userErrors { field code message } }
}
"""
TRANSFER = """
mutation TransferStudent($input: TransferStudentInput!) {
  transferStudent(input: $input) { enrollment { id } userErrors { field code message } }
}
"""
ENROLLMENT = """
query Enrollment($id: ID!) { node(id: $id) { ... on Enrollment { isCurrent exitDate } } }
"""


def _enroll(person: int, school: int, grade: int | None = 2, **extra: object) -> dict[str, object]:
    return {
        "personId": gid("Person", person),
        "institutionId": gid("Institution", school),
        "entryDate": today().isoformat(),
        "gradeLevel": grade,
        **extra,
    }


async def _codes(hub: Hub, token: str, values: dict[str, object]) -> list[str]:
    result = await payload(hub, ENROLL, "enrollStudent", token, values)
    return [e["code"] for e in result["userErrors"]]


class TestEnrollmentNeedsALicence:
    async def test_private_school_without_licence_cannot_enroll_and_writes_nothing(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a private school with no licence and a child
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        child = await make_person(session, birth_date=date(2019, 4, 1))
        await session.commit()
        # when the ministry enrolls the child there
        result = await payload(hub, ENROLL, "enrollStudent", ministry, _enroll(child.id, school.id))
        # then it is refused with LICENCE_REQUIRED on the institution, and nothing is written
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("LICENCE_REQUIRED", "institutionId")
        ]
        assert await count(session, Enrollment) == 0

    async def test_licensed_private_school_enrolls(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a private school with a licence in force for primary education
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        await make_licence(session, institution=school, levels=["primary"])
        child = await make_person(session, birth_date=date(2019, 4, 1))
        await session.commit()
        # when a grade-2 pupil is enrolled, then it succeeds
        assert await _codes(hub, ministry, _enroll(child.id, school.id)) == []
        assert await count(session, Enrollment) == 1

    async def test_licence_must_cover_the_pupils_level(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a private school licensed for primary education only
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        await make_licence(session, institution=school, levels=["primary"])
        pupil = await make_person(session, birth_date=date(2011, 4, 1))
        await session.commit()
        # when a grade-10 pupil is enrolled, then the licence does not cover secondary education
        assert await _codes(hub, ministry, _enroll(pupil.id, school.id, grade=10)) == [
            "LICENCE_REQUIRED"
        ]

    async def test_expired_licence_refuses_even_before_the_expiry_job_runs(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a private school whose licence ran out yesterday (still marked active)
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        await make_licence(session, institution=school, valid_until=today() - timedelta(days=1))
        child = await make_person(session, birth_date=date(2019, 4, 1))
        await session.commit()
        # when a child is enrolled, then it is refused
        assert await _codes(hub, ministry, _enroll(child.id, school.id)) == ["LICENCE_REQUIRED"]

    @pytest.mark.parametrize(
        ("kind", "ownership", "grade"),
        [
            (InstitutionKind.SCHOOL, Ownership.STATE, 2),
            (InstitutionKind.SCHOOL, Ownership.MUNICIPAL, 2),
            (InstitutionKind.KINDERGARTEN, Ownership.MUNICIPAL, None),
        ],
        ids=["state-school", "municipal-school", "municipal-kindergarten"],
    )
    async def test_state_and_municipal_schools_and_kindergartens_are_exempt(
        self,
        hub: Hub,
        session: AsyncSession,
        ministry: str,
        kind: InstitutionKind,
        ownership: Ownership,
        grade: int | None,
    ) -> None:
        # given an exempt institution with no licence
        inst = await make_institution(session, kind=kind, ownership=ownership)
        child = await make_person(session, birth_date=date(2020, 4, 1))
        await session.commit()
        # when a child is enrolled, then it succeeds
        assert await _codes(hub, ministry, _enroll(child.id, inst.id, grade=grade)) == []

    async def test_state_university_needs_a_licence(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a state university with no licence (only schools and kindergartens are exempt)
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        student = await make_person(session, birth_date=date(2007, 4, 1))
        await session.commit()
        values = _enroll(student.id, uni.id, grade=None, programme="Экономика")
        # when a student is enrolled, then it is refused
        assert await _codes(hub, ministry, values) == ["LICENCE_REQUIRED"]


class TestSuspension:
    async def test_suspension_stops_new_admissions_and_keeps_current_pupils(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a licensed private school with a pupil enrolled
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        licence = await make_licence(session, institution=school)
        pupil = await make_person(session, birth_date=date(2018, 4, 1))
        enrolled = await make_enrollment(session, person=pupil, institution=school)
        newcomer = await make_person(session, birth_date=date(2019, 4, 1))
        await session.commit()
        officer = hub.token(Role.LICENSING_OFFICER)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        # when the licence is suspended
        suspended = await payload(
            hub,
            SUSPEND,
            "suspendLicence",
            officer,
            {"licenceId": gid("Licence", licence.id), "reason": "Нарушение санитарных норм"},
        )
        assert suspended["licence"]["status"] == "SUSPENDED"
        assert suspended["licence"]["validToday"] is False
        # then a new pupil is refused at once
        assert await _codes(hub, admin, _enroll(newcomer.id, school.id, pin=newcomer.pin)) == [
            "LICENCE_REQUIRED"
        ]
        # and the pupil already there stays enrolled
        node = (await hub.data(ENROLLMENT, {"id": gid("Enrollment", enrolled.id)}, token=admin))[
            "node"
        ]
        assert node == {"isCurrent": True, "exitDate": None}
        # when the suspension is lifted, then admissions resume
        restored = await payload(
            hub,
            RESTORE,
            "restoreLicence",
            officer,
            {"licenceId": gid("Licence", licence.id), "reason": "Устранено"},
        )
        assert restored["licence"]["status"] == "ACTIVE"
        assert await _codes(hub, admin, _enroll(newcomer.id, school.id, pin=newcomer.pin)) == []

    async def test_admissions_racing_a_suspension_all_see_one_order(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a licensed private school and six children
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        licence = await make_licence(session, institution=school)
        children = [await make_person(session, birth_date=date(2019, 4, 1)) for _ in range(6)]
        await session.commit()
        officer = hub.token(Role.LICENSING_OFFICER)
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        # when the enrollments and the suspension run in concurrent transactions
        suspend = payload(
            hub,
            SUSPEND,
            "suspendLicence",
            officer,
            {"licenceId": gid("Licence", licence.id), "reason": "Проверка"},
        )
        enrolls = [
            payload(hub, ENROLL, "enrollStudent", admin, _enroll(c.id, school.id, pin=c.pin))
            for c in children
        ]
        results = await asyncio.gather(suspend, *enrolls)
        # then each enrollment either succeeded or was refused for the licence, nothing else
        codes = [tuple(e["code"] for e in r["userErrors"]) for r in results[1:]]
        assert set(codes) <= {(), ("LICENCE_REQUIRED",)}
        assert await count(session, Enrollment) == codes.count(())
        # and once the suspension is committed every later admission is refused
        late = await make_person(session, birth_date=date(2019, 4, 1))
        await session.commit()
        assert await _codes(hub, admin, _enroll(late.id, school.id, pin=late.pin)) == [
            "LICENCE_REQUIRED"
        ]


class TestTransferNeedsALicence:
    async def test_transfer_into_an_unlicensed_private_school_is_refused(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a pupil at a state school and an unlicensed private school
        state = await make_institution(session)
        private = await make_institution(session, ownership=Ownership.PRIVATE)
        pupil = await make_person(session, birth_date=date(2018, 4, 1))
        enrolled = await make_enrollment(
            session, person=pupil, institution=state, entry_date=today() - timedelta(days=60)
        )
        await session.commit()
        values = {
            "enrollmentId": gid("Enrollment", enrolled.id),
            "toInstitutionId": gid("Institution", private.id),
            "date": today().isoformat(),
        }
        # when the pupil is transferred there
        result = await payload(hub, TRANSFER, "transferStudent", ministry, values)
        # then it is refused and the pupil stays where they were
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("LICENCE_REQUIRED", "toInstitutionId")
        ]
        assert await count(session, Enrollment) == 1
        node = (await hub.data(ENROLLMENT, {"id": gid("Enrollment", enrolled.id)}, token=ministry))[
            "node"
        ]
        assert node["isCurrent"] is True
        # when the private school gets a licence, then the transfer goes through
        await make_licence(session, institution=private)
        await session.commit()
        again = await payload(hub, TRANSFER, "transferStudent", ministry, values)
        assert again["userErrors"] == []


class TestGuardsForOtherAdmissionPaths:
    """The guards kindergarten offers, first-grade admissions and university applications call."""

    async def test_kindergarten_offer_needs_a_preschool_licence(
        self, session: AsyncSession
    ) -> None:
        # given a private kindergarten licensed for primary education only
        kg = await make_institution(
            session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE
        )
        await make_licence(session, institution=kg, levels=["primary"])
        # when an offer checks the licence for preschool education, then it is refused
        with pytest.raises(DomainError) as refused:
            await licensing_service.require_teaching_licence(
                session, institution_id=kg.id, on=today(), level=EducationLevel.PRESCHOOL
            )
        assert refused.value.code == AdmissionCode.LICENCE_REQUIRED
        # and any licence in force is enough when no level is named
        await licensing_service.require_teaching_licence(session, institution_id=kg.id, on=today())

    async def test_first_grade_admission_in_a_state_school_passes(
        self, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await licensing_service.require_teaching_licence(
            session, institution_id=school.id, on=today(), level=EducationLevel.PRIMARY
        )

    async def test_programme_needing_accreditation_cannot_open_admission_without_it(
        self, session: AsyncSession
    ) -> None:
        # given a university programme whose classifier entry requires accreditation
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        # when admission to it is opened with no accreditation, then it is refused
        with pytest.raises(DomainError) as refused:
            await licensing_service.require_accreditation(
                session, institution_id=uni.id, programme_code="HE-ECONOMICS", on=today()
            )
        assert refused.value.code == AdmissionCode.ACCREDITATION_REQUIRED
        # when the programme is accredited, then admission may open
        agency = await make_accreditation_agency(session)
        programme = await make_institution_programme(session, institution=uni)
        await make_accreditation(session, institution=uni, agency=agency, programme=programme)
        await licensing_service.require_accreditation(
            session, institution_id=uni.id, programme_code="HE-ECONOMICS", on=today()
        )

    async def test_institutional_accreditation_does_not_stand_in_for_a_programmes(
        self, session: AsyncSession
    ) -> None:
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        agency = await make_accreditation_agency(session)
        await make_accreditation(session, institution=uni, agency=agency)
        with pytest.raises(DomainError) as refused:
            await licensing_service.require_accreditation(
                session, institution_id=uni.id, programme_code="HE-MEDICINE", on=today()
            )
        assert refused.value.code == AdmissionCode.ACCREDITATION_REQUIRED

    async def test_programme_without_the_requirement_and_unknown_codes(
        self, session: AsyncSession
    ) -> None:
        college = await make_institution(session, kind=InstitutionKind.COLLEGE)
        await licensing_service.require_accreditation(
            session, institution_id=college.id, programme_code="VOC-NURSING", on=today()
        )
        with pytest.raises(DomainError) as unknown:
            await licensing_service.require_accreditation(
                session, institution_id=college.id, programme_code="NOPE", on=today()
            )
        assert unknown.value.code == AdmissionCode.UNKNOWN_PROGRAMME

    async def test_expired_accreditation_refuses(self, session: AsyncSession) -> None:
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        agency = await make_accreditation_agency(session)
        programme = await make_institution_programme(session, institution=uni)
        await make_accreditation(
            session,
            institution=uni,
            agency=agency,
            programme=programme,
            valid_until=today() - timedelta(days=1),
        )
        with pytest.raises(DomainError) as refused:
            await licensing_service.require_accreditation(
                session, institution_id=uni.id, programme_code="HE-ECONOMICS", on=today()
            )
        assert refused.value.code == AdmissionCode.ACCREDITATION_REQUIRED
