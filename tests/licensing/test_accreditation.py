"""Accreditation: the agency register, and institutional or programme accreditation step by
step to the council's decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import Accreditation, AccreditationStepRecord, InstitutionKind, Ownership
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_accreditation_agency, make_institution
from tests.licensing.helpers import count, payload, today, topics

REGISTER_AGENCY = """
mutation RegisterAccreditationAgency($input: RegisterAccreditationAgencyInput!) {
  registerAccreditationAgency(input: $input) { agency { id name mayAccreditToday } userErrors { field code message } }
}
"""
APPLY = """
mutation ApplyForAccreditation($input: ApplyForAccreditationInput!) {
  applyForAccreditation(input: $input) {
    accreditation { id kind step outcome programme { code name } agency { name } }
    userErrors { field code message }
  }
}
"""
ADVANCE = """
mutation AdvanceAccreditation($input: AdvanceAccreditationInput!) {
  advanceAccreditation(input: $input) {
    accreditation { id step outcome validFrom validUntil validToday history { step outcome note } }
    userErrors { field code message }
  }
}
"""
PROGRAMME = """
query Programme($institutionId: ID!, $code: String!) {
  institutionProgramme(institutionId: $institutionId, code: $code) {
    code name accreditation { outcome validToday validUntil agency { name } }
  }
}
"""
STEPS = ["DECISION_TO_START", "CONTRACT", "SELF_ASSESSMENT", "EXPERT_VISIT"]


class TestAgencyRegister:
    async def test_foreign_agency_needs_the_european_register(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given the ministry registers a foreign agency recognised nationally but not on EQAR
        added = await payload(
            hub,
            REGISTER_AGENCY,
            "registerAccreditationAgency",
            ministry,
            {"name": "Foreign Quality Agency", "countryCode": "de", "onNationalRegister": True},
        )
        assert added["agency"]["mayAccreditToday"] is False
        uni = await make_institution(
            session, kind=InstitutionKind.UNIVERSITY, ownership=Ownership.PRIVATE
        )
        await session.commit()
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{uni.id}"])
        values = {
            "institutionId": gid("Institution", uni.id),
            "agencyId": added["agency"]["id"],
            "kind": "INSTITUTIONAL",
        }
        # when the university applies to it, then the agency is not recognised, nothing written
        refused = await payload(hub, APPLY, "applyForAccreditation", admin, values)
        assert [e["code"] for e in refused["userErrors"]] == ["AGENCY_NOT_RECOGNISED"]
        assert await count(session, Accreditation) == 0
        # when the agency joins EQAR, then the application is accepted
        await payload(
            hub,
            REGISTER_AGENCY,
            "registerAccreditationAgency",
            ministry,
            {
                "id": added["agency"]["id"],
                "name": "Foreign Quality Agency",
                "countryCode": "DE",
                "onNationalRegister": True,
                "onEuropeanRegister": True,
            },
        )
        accepted = await payload(hub, APPLY, "applyForAccreditation", admin, values)
        assert accepted["userErrors"] == []

    async def test_agency_off_the_national_register_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        agency = await make_accreditation_agency(session, on_national_register=False)
        await session.commit()
        result = await payload(
            hub,
            APPLY,
            "applyForAccreditation",
            hub.token(Role.MINISTRY),
            {
                "institutionId": gid("Institution", uni.id),
                "agencyId": gid("AccreditationAgency", agency.id),
                "kind": "PROGRAMME",
                "programmeCode": "HE-ECONOMICS",
            },
        )
        assert [e["code"] for e in result["userErrors"]] == ["AGENCY_NOT_RECOGNISED"]

    async def test_only_the_ministry_keeps_the_register(self, hub: Hub) -> None:
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=["institution:1"])
        result = await payload(
            hub,
            REGISTER_AGENCY,
            "registerAccreditationAgency",
            admin,
            {"name": "Самозванец", "countryCode": "KG", "onNationalRegister": True},
        )
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]


class TestProgrammeAccreditation:
    async def test_programme_goes_through_every_step_to_the_council_decision(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a university, a recognised agency, the university's admin and an officer
        uni = await make_institution(
            session, kind=InstitutionKind.UNIVERSITY, ownership=Ownership.PRIVATE
        )
        agency = await make_accreditation_agency(session, name="Агентство «Билим-Стандарт»")
        await session.commit()
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{uni.id}"])
        officer = hub.token(Role.LICENSING_OFFICER)
        # when the university applies for its economics programme
        applied = await payload(
            hub,
            APPLY,
            "applyForAccreditation",
            admin,
            {
                "institutionId": gid("Institution", uni.id),
                "agencyId": gid("AccreditationAgency", agency.id),
                "kind": "PROGRAMME",
                "programmeCode": "he-economics",
            },
        )
        acc = applied["accreditation"]
        assert (acc["step"], acc["outcome"]) == ("APPLICATION", "PENDING")
        assert acc["programme"] == {"code": "HE-ECONOMICS", "name": "Экономика"}
        # then the public does not see it while in progress
        variables = {"institutionId": gid("Institution", uni.id), "code": "HE-ECONOMICS"}
        assert (await hub.data(PROGRAMME, variables))["institutionProgramme"][
            "accreditation"
        ] is None
        # when a step is skipped, then it is refused
        skipped = await payload(
            hub,
            ADVANCE,
            "advanceAccreditation",
            officer,
            {"accreditationId": acc["id"], "step": "CONTRACT"},
        )
        assert [e["code"] for e in skipped["userErrors"]] == ["WRONG_ACCREDITATION_STEP"]
        # when the steps are recorded in order (the university its own self-assessment)
        for step in STEPS:
            token = admin if step == "SELF_ASSESSMENT" else officer
            moved = await payload(
                hub,
                ADVANCE,
                "advanceAccreditation",
                token,
                {"accreditationId": acc["id"], "step": step},
            )
            assert moved["userErrors"] == [], step
        until = today() + timedelta(days=5 * 365)
        decided = await payload(
            hub,
            ADVANCE,
            "advanceAccreditation",
            officer,
            {
                "accreditationId": acc["id"],
                "step": "COUNCIL_DECISION",
                "outcome": "ACCREDITED",
                "validUntil": until.isoformat(),
                "note": "Протокол совета № 4",
            },
        )
        # then the programme is accredited until the decided date, with the full history
        result = decided["accreditation"]
        assert result["outcome"] == "ACCREDITED"
        assert result["validToday"] is True
        assert [h["step"] for h in result["history"]] == ["APPLICATION", *STEPS, "COUNCIL_DECISION"]
        public = (await hub.data(PROGRAMME, variables))["institutionProgramme"]["accreditation"]
        assert public == {
            "outcome": "ACCREDITED",
            "validToday": True,
            "validUntil": until.isoformat(),
            "agency": {"name": "Агентство «Билим-Стандарт»"},
        }
        # and a decided accreditation is closed
        steps = await count(session, AccreditationStepRecord)
        again = await payload(
            hub,
            ADVANCE,
            "advanceAccreditation",
            officer,
            {"accreditationId": acc["id"], "step": "COUNCIL_DECISION", "outcome": "DENIED"},
        )
        assert [e["code"] for e in again["userErrors"]] == ["CASE_CLOSED"]
        assert await count(session, AccreditationStepRecord) == steps
        assert (await topics(session))[-1] == "licensing.accreditation_decided"

    async def test_the_institution_records_only_its_self_assessment(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        agency = await make_accreditation_agency(session)
        await session.commit()
        admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{uni.id}"])
        applied = await payload(
            hub,
            APPLY,
            "applyForAccreditation",
            admin,
            {
                "institutionId": gid("Institution", uni.id),
                "agencyId": gid("AccreditationAgency", agency.id),
                "kind": "INSTITUTIONAL",
            },
        )
        result = await payload(
            hub,
            ADVANCE,
            "advanceAccreditation",
            admin,
            {"accreditationId": applied["accreditation"]["id"], "step": "DECISION_TO_START"},
        )
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]

    async def test_unknown_programme_and_second_application_are_refused(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        uni = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
        agency = await make_accreditation_agency(session)
        await session.commit()
        values = {
            "institutionId": gid("Institution", uni.id),
            "agencyId": gid("AccreditationAgency", agency.id),
            "kind": "PROGRAMME",
        }
        unknown = await payload(
            hub, APPLY, "applyForAccreditation", ministry, {**values, "programmeCode": "NOPE-1"}
        )
        assert [e["code"] for e in unknown["userErrors"]] == ["UNKNOWN_PROGRAMME"]
        first = await payload(
            hub,
            APPLY,
            "applyForAccreditation",
            ministry,
            {**values, "programmeCode": "HE-AGRONOMY"},
        )
        assert first["userErrors"] == []
        second = await payload(
            hub,
            APPLY,
            "applyForAccreditation",
            ministry,
            {**values, "programmeCode": "HE-AGRONOMY"},
        )
        assert [e["code"] for e in second["userErrors"]] == ["ACCREDITATION_PENDING"]
        assert await count(session, Accreditation) == 1
