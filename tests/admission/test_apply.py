"""Applying to university programmes: up to the season's number of choices, in order of
preference, each checked for eligibility at once; a refused application writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdmissionApplication, FieldThreshold, Guardianship, Person, PlaceCategory
from resolvers.access import Role
from tests.admission.arrange import REGISTRATION, Campaign, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import gid, make_person

APPLY = """
mutation Apply($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) {
    applications { id preference funding grantCategory status totalScore programme { code } }
    userErrors { field code message }
  }
}
"""


def _input(
    campaign: Campaign, person: Person, certificate: Any, *choices: tuple[str, str]
) -> dict[str, Any]:
    return {
        "input": {
            "seasonId": gid("AdmissionSeason", campaign.season.id),
            "personId": gid("Person", person.id),
            "certificateNumber": certificate.certificate_number,
            "choices": [
                {"programmeId": gid("Programme", campaign.programmes[p].id), "funding": f}
                for p, f in choices
            ],
        }
    }


async def _applications(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AdmissionApplication)) or 0)


class TestApplyToProgrammes:
    async def test_applicant_applies_in_order_of_preference_in_their_schools_pool(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given a rural school leaver with good scores during registration
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(
            session, campaign, rural=True, subjects={"math": 100, "chemistry": 80, "biology": 95}
        )
        await session.commit()
        on_day(REGISTRATION)
        # when they apply to medicine (grant) then informatics (both)
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("medicine", "GRANT"), ("informatics", "BOTH")),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        # then two applications are stored, ranked by main + required subjects
        payload = body["applyToProgrammes"]
        assert payload["userErrors"] == []
        first, second = payload["applications"]
        assert (first["preference"], first["programme"]["code"]) == (1, "MED")
        assert first["grantCategory"] == "RURAL"
        assert first["totalScore"] == 150 + 80 + 95
        assert (second["funding"], second["totalScore"]) == ("BOTH", 150 + 100)

    async def test_below_threshold_choice_is_refused_with_the_reason_and_nothing_is_written(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given health's grant threshold of 120 and an applicant with 115
        campaign = await arrange_campaign(session)
        session.add(
            FieldThreshold(
                season_id=campaign.season.id,
                field_of_study="health",
                grant_main_min=120,
                contract_main_min=110,
                subject_min=60,
            )
        )
        person, cert = await make_applicant(
            session, campaign, main=115, subjects={"math": 90, "chemistry": 70, "biology": 70}
        )
        await session.commit()
        on_day(REGISTRATION)
        # when they apply for a grant in medicine and contract in informatics
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("informatics", "CONTRACT"), ("medicine", "GRANT")),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        # then the answer says why and nothing is stored
        errors = body["applyToProgrammes"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [
            ("BELOW_THRESHOLD", "choices.1.programmeId")
        ]
        assert "120" in errors[0]["message"]
        assert await _applications(session) == 0

    async def test_missing_subject_and_state_language_are_both_reported(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(
            session, campaign, subjects={"chemistry": 90}, state_language=20
        )
        await session.commit()
        on_day(REGISTRATION)
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("medicine", "GRANT")),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        codes = {e["code"] for e in body["applyToProgrammes"]["userErrors"]}
        assert codes == {"STATE_LANGUAGE_NOT_PASSED", "MISSING_SUBJECT_TEST"}
        assert await _applications(session) == 0

    async def test_more_choices_than_the_season_allows_are_refused(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        campaign.season.max_choices = 2
        person, cert = await make_applicant(
            session, campaign, subjects={"math": 90, "chemistry": 90, "biology": 90}
        )
        await session.commit()
        on_day(REGISTRATION)
        body = await hub.data(
            APPLY,
            _input(
                campaign,
                person,
                cert,
                ("medicine", "GRANT"),
                ("informatics", "GRANT"),
                ("economics", "GRANT"),
            ),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        assert body["applyToProgrammes"]["userErrors"][0]["code"] == "TOO_MANY_CHOICES"
        assert await _applications(session) == 0

    async def test_applying_after_the_registration_window_is_refused(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign)
        await session.commit()
        on_day(date(2026, 7, 6))
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("informatics", "GRANT")),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        assert body["applyToProgrammes"]["userErrors"][0]["code"] == "WINDOW_CLOSED"
        assert await _applications(session) == 0

    async def test_unknown_or_someone_elses_certificate_is_refused(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, _cert = await make_applicant(session, campaign)
        _other, other_cert = await make_applicant(session, campaign, name="Бегимай")
        await session.commit()
        on_day(REGISTRATION)
        token = hub.token(Role.PUPIL, person_id=person.id)
        for number in ("NOPE0000", other_cert.certificate_number):
            variables = _input(campaign, person, other_cert, ("informatics", "GRANT"))
            variables["input"]["certificateNumber"] = number
            body = await hub.data(APPLY, variables, token=token)
            assert body["applyToProgrammes"]["userErrors"][0]["code"] == "UNKNOWN_CERTIFICATE"
        assert await _applications(session) == 0

    async def test_winter_intake_takes_contract_applications_only(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        from tests.factories import make_admission_round, make_admission_season, make_programme

        campaign = await arrange_campaign(session)
        winter = await make_admission_season(session, intake="winter")
        await make_admission_round(
            session,
            season=winter,
            registration_opens=date(2026, 12, 1),
            registration_closes=date(2026, 12, 20),
            publication_on=date(2026, 12, 22),
            confirmation_opens=date(2026, 12, 22),
            confirmation_closes=date(2026, 12, 26),
        )
        programme = await make_programme(
            session, season=winter, university=campaign.university, places={"contract": 5}
        )
        person, cert = await make_applicant(session, campaign)
        await session.commit()
        on_day(date(2026, 12, 5))
        variables = {
            "input": {
                "seasonId": gid("AdmissionSeason", winter.id),
                "personId": gid("Person", person.id),
                "certificateNumber": cert.certificate_number,
                "choices": [{"programmeId": gid("Programme", programme.id), "funding": "GRANT"}],
            }
        }
        token = hub.token(Role.PUPIL, person_id=person.id)
        body = await hub.data(APPLY, variables, token=token)
        assert "CONTRACT_ONLY" in {e["code"] for e in body["applyToProgrammes"]["userErrors"]}
        variables["input"]["choices"][0]["funding"] = "CONTRACT"
        body = await hub.data(APPLY, variables, token=token)
        assert body["applyToProgrammes"]["userErrors"] == []

    async def test_guardian_applies_for_a_minor_but_not_for_an_adult(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        minor, minor_cert = await make_applicant(session, campaign, birth_date=date(2009, 1, 1))
        adult, adult_cert = await make_applicant(session, campaign, birth_date=date(2007, 1, 1))
        mother = await make_person(session, birth_date=date(1980, 1, 1), first_name="Гульнара")
        session.add(Guardianship(guardian_id=mother.id, child_id=minor.id, kind="mother"))
        session.add(Guardianship(guardian_id=mother.id, child_id=adult.id, kind="mother"))
        await session.commit()
        on_day(REGISTRATION)
        token = hub.token(Role.GUARDIAN, person_id=mother.id)
        ok = await hub.data(
            APPLY, _input(campaign, minor, minor_cert, ("informatics", "GRANT")), token=token
        )
        assert ok["applyToProgrammes"]["userErrors"] == []
        refused = await hub.data(
            APPLY, _input(campaign, adult, adult_cert, ("informatics", "GRANT")), token=token
        )
        assert refused["applyToProgrammes"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_another_pupil_cannot_apply_for_someone(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign)
        stranger = await make_person(session, first_name="Нурлан")
        await session.commit()
        on_day(REGISTRATION)
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("informatics", "GRANT")),
            token=hub.token(Role.PUPIL, person_id=stranger.id),
        )
        assert body["applyToProgrammes"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_quota_holder_competes_in_the_quota_when_the_programme_has_one(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None], ministry: str
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign)
        await session.commit()
        on_day(REGISTRATION)
        granted = await hub.data(
            """mutation($input: GrantAdmissionQuotaInput!) {
                 grantAdmissionQuota(input: $input) { category userErrors { code } } }""",
            {
                "input": {
                    "seasonId": gid("AdmissionSeason", campaign.season.id),
                    "personId": gid("Person", person.id),
                    "category": "ORPHAN",
                }
            },
            token=ministry,
        )
        assert granted["grantAdmissionQuota"]["category"] == "ORPHAN"
        places = await hub.data(
            """mutation($input: SetProgrammePlacesInput!) {
                 setProgrammePlaces(input: $input) { programme { places { category places } } userErrors { code } } }""",
            {
                "input": {
                    "programmeId": gid("Programme", campaign.programmes["economics"].id),
                    "places": [{"category": "ORPHAN", "places": 1}],
                }
            },
            token=ministry,
        )
        assert places["setProgrammePlaces"]["userErrors"] == []
        body = await hub.data(
            APPLY,
            _input(campaign, person, cert, ("economics", "GRANT"), ("informatics", "GRANT")),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        categories = [a["grantCategory"] for a in body["applyToProgrammes"]["applications"]]
        assert categories == [PlaceCategory.ORPHAN.name, PlaceCategory.BISHKEK.name]

    async def test_simultaneous_submissions_leave_one_active_list(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(
            session, campaign, subjects={"math": 90, "chemistry": 90, "biology": 90}
        )
        await session.commit()
        on_day(REGISTRATION)
        token = hub.token(Role.PUPIL, person_id=person.id)
        lists = [
            (("informatics", "GRANT"), ("economics", "GRANT")),
            (("medicine", "BOTH"),),
            (("economics", "CONTRACT"), ("informatics", "BOTH"), ("medicine", "GRANT")),
        ]
        # when three tabs submit different lists at once
        bodies = await asyncio.gather(
            *[hub.data(APPLY, _input(campaign, person, cert, *c), token=token) for c in lists]
        )
        # then each was applied in turn and exactly one list remains active
        assert all(b["applyToProgrammes"]["userErrors"] == [] for b in bodies)
        active = (
            (
                await session.execute(
                    select(AdmissionApplication.preference).where(
                        AdmissionApplication.person_id == person.id,
                        AdmissionApplication.status == "active",
                    )
                )
            )
            .scalars()
            .all()
        )
        assert sorted(active) in ([1, 2], [1], [1, 2, 3])
        assert len(active) == len(set(active))
