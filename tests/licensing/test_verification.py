"""Public verification: anyone, with no token, can ask whether an institution or programme is
licensed or accredited today and sees only the public facts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Ownership
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_accreditation,
    make_accreditation_agency,
    make_institution,
    make_institution_programme,
    make_licence,
)
from tests.licensing.helpers import today

VERIFY = """
query VerifyLicence($number: String!) {
  verifyLicence(number: $number) {
    number status validToday issuedOn validUntil levels
    institution { name licenceRequired mayTeachToday }
    addresses { address }
    history { action actor }
    application { id }
  }
}
"""
INSTITUTION = """
query InstitutionLicensing($id: ID!) {
  node(id: $id) {
    ... on Institution {
      name licenceRequired mayTeachToday
      licence { number status validToday }
      accreditation { outcome validToday }
      programmes { code accreditation { outcome } }
    }
  }
}
"""


class TestPublicVerification:
    async def test_anyone_verifies_a_licence_by_number_and_sees_only_public_facts(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private school with a licence in force
        school = await make_institution(session, ownership=Ownership.PRIVATE, name="Лицей «Илим»")
        licence = await make_licence(
            session,
            institution=school,
            number="KG-LIC-2025-000042",
            valid_until=today() + timedelta(days=30),
        )
        await session.commit()
        # when an anonymous caller checks the number (in any case, with stray spaces)
        data = await hub.data(VERIFY, {"number": " kg-lic-2025-000042 "})
        # then the public facts come back and the dossier does not
        found = data["verifyLicence"]
        assert found["number"] == licence.number
        assert found["validToday"] is True
        assert found["institution"] == {
            "name": "Лицей «Илим»",
            "licenceRequired": True,
            "mayTeachToday": True,
        }
        assert found["addresses"] == [{"address": "г. Бишкек, ул. Киевская, 100"}]
        assert found["application"] is None

    async def test_unknown_number_is_null(self, hub: Hub) -> None:
        assert (await hub.data(VERIFY, {"number": "KG-LIC-1999-000001"}))["verifyLicence"] is None

    async def test_suspended_licence_is_not_valid_today(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session, ownership=Ownership.PRIVATE)
        await make_licence(
            session, institution=school, number="KG-LIC-2025-000007", status="suspended"
        )
        await session.commit()
        data = await hub.data(VERIFY, {"number": "KG-LIC-2025-000007"})
        assert data["verifyLicence"]["status"] == "SUSPENDED"
        assert data["verifyLicence"]["validToday"] is False
        assert data["verifyLicence"]["institution"]["mayTeachToday"] is False

    async def test_exempt_school_says_so(self, hub: Hub, session: AsyncSession) -> None:
        school = await make_institution(session)
        await session.commit()
        node = (await hub.data(INSTITUTION, {"id": gid("Institution", school.id)}))["node"]
        assert node["licenceRequired"] is False
        assert node["mayTeachToday"] is True
        assert node["licence"] is None

    async def test_institution_shows_its_licence_and_accreditations(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a university with a licence, an institutional accreditation and an accredited
        # programme, and a re-issued licence in its past
        uni = await make_institution(
            session, kind=InstitutionKind.UNIVERSITY, ownership=Ownership.PRIVATE
        )
        await make_licence(
            session, institution=uni, status="reissued", issued_on=today() - timedelta(days=900)
        )
        current = await make_licence(session, institution=uni, levels=["higher"])
        agency = await make_accreditation_agency(session)
        await make_accreditation(session, institution=uni, agency=agency)
        programme = await make_institution_programme(session, institution=uni)
        await make_accreditation(session, institution=uni, agency=agency, programme=programme)
        await session.commit()
        # when anyone looks at the university
        node = (await hub.data(INSTITUTION, {"id": gid("Institution", uni.id)}))["node"]
        # then the licence in force, the accreditation and the programme's are shown
        assert node["licence"] == {"number": current.number, "status": "ACTIVE", "validToday": True}
        assert node["accreditation"] == {"outcome": "ACCREDITED", "validToday": True}
        assert node["programmes"] == [
            {"code": "HE-ECONOMICS", "accreditation": {"outcome": "ACCREDITED"}}
        ]
