"""The licence and accreditation enforced in every admission workflow (issue 5, "Enforced across
systems"): kindergarten offers and admissions, first-grade applications and allocations,
university applications, rounds and the admission order. An institution that needs a licence
and holds none in force is refused with LICENCE_REQUIRED and nothing is written; a programme
that needs accreditation is refused with ACCREDITATION_REQUIRED; suspending a licence stops new
admissions at once and leaves current pupils enrolled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionSeason,
    Enrollment,
    FirstGradeApplication,
    FirstGradeQuota,
    InstitutionKind,
    IntakeKind,
    KindergartenOffer,
    KindergartenPlaces,
    Licence,
    Ownership,
    Sector,
)
from resolvers.access import Role
from tests.admission.arrange import (
    AFTER_SEASON,
    PUBLICATION,
    PUBLICATION_2,
    REGISTRATION,
    Campaign,
    arrange_campaign,
    make_applicant,
)
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_accreditation,
    make_accreditation_agency,
    make_catchment_area,
    make_enrollment,
    make_first_grade_application,
    make_institution,
    make_institution_programme,
    make_intake_season,
    make_kindergarten_places,
    make_licence,
    make_person,
)
from tests.first_grade.test_first_grade import School, apply_input, child_of, school_admin
from tests.licensing.helpers import RESTORE, SUSPEND, move_clock, payload
from tests.preschool.helpers import (
    Queue,
    arrange_queue,
    count_rows,
    errors_of,
    guardian_token,
    officer_token,
)
from tests.preschool.test_offers import ACCEPT, CONFIRM, OFFER, waiting_children

# --- shared steps --------------------------------------------------------------------------


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Move the hub's today (the admission calendar is set by the scenario)."""
    return lambda day: move_clock(monkeypatch, day)


async def committed(session: AsyncSession, stmt: Any) -> list[Any]:
    """What the hub committed, read on a connection of its own: the arranging session is not
    rolled back, so the objects it arranged stay loaded."""
    assert isinstance(session.bind, AsyncEngine)
    async with session.bind.connect() as conn:
        return list((await conn.execute(stmt)).scalars())


async def rows(session: AsyncSession, model: Any) -> int:
    (n,) = await committed(session, select(func.count()).select_from(model))
    return int(n)


async def _licence_of(session: AsyncSession, institution_id: int) -> int:
    (licence_id,) = await committed(
        session, select(Licence.id).where(Licence.institution_id == institution_id)
    )
    return int(licence_id)


async def suspend(hub: Hub, session: AsyncSession, institution_id: int) -> None:
    """The licensing officer suspends the institution's licence (the real mutation)."""
    licence_id = await _licence_of(session, institution_id)
    result = await payload(
        hub,
        SUSPEND,
        "suspendLicence",
        hub.token(Role.LICENSING_OFFICER),
        {"licenceId": gid("Licence", licence_id), "reason": "Предписание не исполнено"},
    )
    assert result["userErrors"] == []
    assert result["licence"]["status"] == "SUSPENDED"


async def restore(hub: Hub, session: AsyncSession, institution_id: int) -> None:
    licence_id = await _licence_of(session, institution_id)
    result = await payload(
        hub,
        RESTORE,
        "restoreLicence",
        hub.token(Role.LICENSING_OFFICER),
        {"licenceId": gid("Licence", licence_id), "reason": "Нарушения устранены"},
    )
    assert result["userErrors"] == []
    assert result["licence"]["status"] == "ACTIVE"


async def still_current(session: AsyncSession, enrollment_id: int) -> bool:
    exits = await committed(
        session, select(Enrollment.exit_date).where(Enrollment.id == enrollment_id)
    )
    return exits == [None]


# --- kindergarten offers and admissions ----------------------------------------------------


async def private_kindergarten_queue(
    session: AsyncSession, *, licence: list[str] | None, children: int = 2
) -> Queue:
    """A queue whose first kindergarten is private, licensed for ``licence`` levels (None: no
    licence), with free places and children waiting there."""
    queue = await arrange_queue(session, kindergartens=1)
    kg = await make_institution(
        session,
        kind=InstitutionKind.KINDERGARTEN,
        ownership=Ownership.PRIVATE,
        name="Частный детский сад «Айгерим»",
    )
    queue.kindergartens.insert(0, kg)
    if licence is not None:
        await make_licence(session, institution=kg, levels=licence)
    await waiting_children(session, queue, children)
    await make_kindergarten_places(
        session, kindergarten=kg, season=queue.season, free_places=children
    )
    await session.commit()
    return queue


async def _offer(hub: Hub, queue: Queue, **extra: object) -> dict[str, Any]:
    return await hub.gql(
        OFFER,
        {"input": {"kindergartenId": queue.kg(), **extra}},
        token=officer_token(hub, queue.kindergartens[0]),
    )


class TestKindergartenOffers:
    async def test_unlicensed_private_kindergarten_offers_nothing(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a private kindergarten with no licence, free places and two children waiting
        queue = await private_kindergarten_queue(session, licence=None)
        before = await count_rows(engine)
        # when its officer offers the places
        body = await _offer(hub, queue)
        # then it is refused on the kindergarten, and no offer, status or event is written
        assert [(e["code"], e["field"]) for e in body["data"]["offerPlaces"]["userErrors"]] == [
            ("LICENCE_REQUIRED", "kindergartenId")
        ]
        assert await count_rows(engine) == before
        assert await committed(session, select(KindergartenPlaces.free_places)) == [2]

    async def test_a_licence_for_other_levels_does_not_cover_preschool(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await private_kindergarten_queue(session, licence=["primary"])
        assert errors_of(await _offer(hub, queue), "offerPlaces") == ["LICENCE_REQUIRED"]

    async def test_licensed_private_kindergarten_offers_its_places(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await private_kindergarten_queue(session, licence=["preschool"])
        body = await _offer(hub, queue)
        assert errors_of(body, "offerPlaces") == []
        assert len(body["data"]["offerPlaces"]["offers"]) == 2

    async def test_suspension_stops_offers_and_admissions_and_keeps_children_enrolled(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a licensed private kindergarten with a child already attending, and one of
        # two places offered and accepted
        queue = await private_kindergarten_queue(session, licence=["preschool"])
        kg = queue.kindergartens[0]
        attending = await make_person(session, birth_date=date(queue.season.year - 4, 5, 1))
        enrolled = await make_enrollment(
            session,
            person=attending,
            institution=kg,
            entry_date=date(queue.season.year - 1, 9, 1),
        )
        await session.commit()
        offered = await _offer(hub, queue, count=1)
        (offer_id,) = [o["id"] for o in offered["data"]["offerPlaces"]["offers"]]
        accepted = await hub.gql(
            ACCEPT, {"input": {"offerId": offer_id}}, token=guardian_token(hub, queue.mother)
        )
        assert errors_of(accepted, "acceptOffer") == []
        # when the licence is suspended
        kg_id, enrolled_id = kg.id, enrolled.id
        officer = officer_token(hub, kg)
        await suspend(hub, session, kg_id)
        before = await count_rows(engine)
        # then the remaining place cannot be offered, and the accepted offer cannot become an
        # enrollment; nothing is written and the offer stays accepted
        assert errors_of(await _offer(hub, queue), "offerPlaces") == ["LICENCE_REQUIRED"]
        refused = await hub.gql(CONFIRM, {"input": {"offerId": offer_id}}, token=officer)
        assert errors_of(refused, "confirmAdmission") == ["LICENCE_REQUIRED"]
        assert await count_rows(engine) == before
        assert await committed(session, select(KindergartenOffer.status)) == ["accepted"]
        assert await rows(session, Enrollment) == 1
        # and the child already attending stays enrolled
        assert await still_current(session, enrolled_id)
        # when the licence is restored, then the admission goes through
        await restore(hub, session, kg_id)
        confirmed = await hub.gql(CONFIRM, {"input": {"offerId": offer_id}}, token=officer)
        assert errors_of(confirmed, "confirmAdmission") == []
        assert await rows(session, Enrollment) == 2


# --- first-grade applications and allocations ----------------------------------------------


async def private_school(session: AsyncSession, *, licensed: bool) -> School:
    """A first-grade season open today and a private school with a catchment area, licensed
    for primary education or not."""
    season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    school = await make_institution(
        session,
        kind=InstitutionKind.SCHOOL,
        ownership=Ownership.PRIVATE,
        name="Частная школа «Билим»",
        languages=["ky", "ru"],
    )
    await make_catchment_area(session, institution=school, streets=["ул. Ахунбаева"])
    if licensed:
        await make_licence(session, institution=school, levels=["primary", "basic"])
    mother = await make_person(session, birth_date=date(1989, 6, 1), first_name="Айнура")
    return School(season, school, mother)


async def verified_applications(session: AsyncSession, s: School, n: int) -> list[int]:
    ids = []
    for i in range(n):
        child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
        application = await make_first_grade_application(
            session,
            child=child,
            guardian=s.mother,
            school=s.school,
            season=s.season,
            applied_at=datetime(2026, 4, 1, 9, i, tzinfo=UTC),
        )
        ids.append(application.id)
    return ids


ALLOCATE = """
mutation Allocate($input: AllocateFirstGradePlacesInput!) {
  allocateFirstGradePlaces(input: $input) {
    admitted waitlisted rejected schools userErrors { field code message }
  }
}
"""
APPLY_FIRST_GRADE = """
mutation Apply($input: ApplyForFirstGradeInput!) {
  applyForFirstGrade(input: $input) { application { id status } userErrors { field code } }
}
"""


async def _allocate(hub: Hub, s: School, token: str, *, named: bool = True) -> dict[str, Any]:
    values: dict[str, Any] = {"seasonId": gid("IntakeSeason", s.season.id)}
    if named:
        values["schoolId"] = s.id
    body = await hub.gql(ALLOCATE, {"input": values}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["allocateFirstGradePlaces"]
    return result


async def _statuses(session: AsyncSession, ids: list[int]) -> list[str]:
    return [
        str(status)
        for status in await committed(
            session,
            select(FirstGradeApplication.status)
            .where(FirstGradeApplication.id.in_(ids))
            .order_by(FirstGradeApplication.id),
        )
    ]


class TestFirstGradeAdmissions:
    async def test_applying_to_an_unlicensed_private_school_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a private school with no licence and a child of its catchment area
        s = await private_school(session, licensed=False)
        child = await child_of(session, s, born=date(s.season.year - 6, 2, 1))
        await session.commit()
        # when the mother applies there
        body = await hub.gql(
            APPLY_FIRST_GRADE,
            apply_input(s, child),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )
        # then it is refused on the school and no application is stored
        assert [
            (e["code"], e["field"]) for e in body["data"]["applyForFirstGrade"]["userErrors"]
        ] == [("LICENCE_REQUIRED", "schoolId")]
        assert await rows(session, FirstGradeApplication) == 0

    async def test_allocating_an_unlicensed_private_school_admits_no_one_and_writes_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given verified applications at a private school with no licence
        s = await private_school(session, licensed=False)
        ids = await verified_applications(session, s, 2)
        await session.commit()
        # when its administrator allocates the places
        result = await _allocate(hub, s, school_admin(hub, s))
        # then it is refused, and no quota, enrollment or status change is written
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("LICENCE_REQUIRED", "schoolId")
        ]
        assert await _statuses(session, ids) == ["verified", "verified"]
        assert await rows(session, FirstGradeQuota) == 0
        assert await rows(session, Enrollment) == 0

    async def test_an_allocation_across_the_country_leaves_unlicensed_schools_out(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given verified applications at an unlicensed private school and at a state school
        s = await private_school(session, licensed=False)
        unlicensed = await verified_applications(session, s, 2)
        state = School(
            s.season, await make_institution(session, kind=InstitutionKind.SCHOOL), s.mother
        )
        exempt = await verified_applications(session, state, 1)
        await session.commit()
        # when the ministry allocates every school
        result = await _allocate(hub, s, ministry, named=False)
        # then the state school admits its child and the private school's applications wait
        # untouched, with no quota made for it
        assert (result["admitted"], result["userErrors"]) == (1, [])
        assert await _statuses(session, exempt) == ["admitted"]
        assert await _statuses(session, unlicensed) == ["verified", "verified"]
        quota_schools = await committed(session, select(FirstGradeQuota.school_id))
        assert quota_schools == [state.school.id]

    async def test_licensed_private_school_takes_applications_and_admits(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await private_school(session, licensed=True)
        child = await child_of(session, s, born=date(s.season.year - 6, 2, 1))
        ids = await verified_applications(session, s, 1)
        await session.commit()
        applied = await hub.gql(
            APPLY_FIRST_GRADE,
            apply_input(s, child),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )
        assert errors_of(applied, "applyForFirstGrade") == []
        result = await _allocate(hub, s, school_admin(hub, s))
        assert (result["admitted"], result["userErrors"]) == (1, [])
        assert await _statuses(session, ids) == ["admitted"]

    async def test_suspension_stops_admissions_at_once_and_keeps_pupils_enrolled(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a licensed private school with a pupil, a verified application and a new child
        s = await private_school(session, licensed=True)
        pupil = await make_person(session, birth_date=date(s.season.year - 9, 3, 1))
        enrolled = await make_enrollment(session, person=pupil, institution=s.school, grade_level=3)
        ids = await verified_applications(session, s, 1)
        newcomer = await child_of(session, s, born=date(s.season.year - 6, 2, 1))
        await session.commit()
        # when the licence is suspended
        await suspend(hub, session, s.school.id)
        # then neither an application nor an allocation goes through
        applied = await hub.gql(
            APPLY_FIRST_GRADE,
            apply_input(s, newcomer),
            token=hub.token(Role.GUARDIAN, person_id=s.mother.id),
        )
        assert errors_of(applied, "applyForFirstGrade") == ["LICENCE_REQUIRED"]
        result = await _allocate(hub, s, school_admin(hub, s))
        assert [e["code"] for e in result["userErrors"]] == ["LICENCE_REQUIRED"]
        assert await _statuses(session, ids) == ["verified"]
        # and the pupil already there stays enrolled
        assert await still_current(session, enrolled.id)
        # when the licence is restored, then the waiting application is admitted
        await restore(hub, session, s.school.id)
        again = await _allocate(hub, s, school_admin(hub, s))
        assert (again["admitted"], again["userErrors"]) == (1, [])


# --- university applications, rounds and the admission order ------------------------------

APPLY = """
mutation Apply($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) { applications { id } userErrors { field code message } }
}
"""
PUBLISH = """
mutation Publish($input: PublishRoundInput!) {
  publishRound(input: $input) { recommended userErrors { code message } }
}
"""
CONFIRM_PLACE = """
mutation Confirm($input: ConfirmPlaceInput!) {
  confirmPlace(input: $input) { offer { status } userErrors { code message } }
}
"""
ORDER = """
mutation Order($input: IssueAdmissionOrderInput!) {
  issueAdmissionOrder(input: $input) { order { enrollments } userErrors { field code message } }
}
"""
CREATE_PROGRAMME = """
mutation Create($input: CreateProgrammeInput!) {
  createProgramme(input: $input) { programme { code programmeCode } userErrors { field code } }
}
"""


async def _apply(
    hub: Hub, campaign: Campaign, person: Any, cert: Any, *choices: tuple[str, str]
) -> dict[str, Any]:
    body = await hub.data(
        APPLY,
        {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "personId": gid("Person", person.id),
                "certificateNumber": cert.certificate_number,
                "choices": [
                    {"programmeId": gid("Programme", campaign.programmes[p].id), "funding": f}
                    for p, f in choices
                ],
            }
        },
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    result: dict[str, Any] = body["applyToProgrammes"]
    return result


def _codes(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in result["userErrors"]]


async def _publish(hub: Hub, ministry: str, rnd: Any) -> dict[str, Any]:
    body = await hub.data(
        PUBLISH, {"input": {"roundId": gid("AdmissionRound", rnd.id)}}, token=ministry
    )
    result: dict[str, Any] = body["publishRound"]
    return result


async def _order(hub: Hub, ministry: str, campaign: Campaign) -> dict[str, Any]:
    body = await hub.data(
        ORDER,
        {"input": {"seasonId": gid("AdmissionSeason", campaign.season.id), "number": "№ 77"}},
        token=ministry,
    )
    result: dict[str, Any] = body["issueAdmissionOrder"]
    return result


async def accredited_medicine(session: AsyncSession, campaign: Campaign) -> Any:
    """Link the campaign's medicine programme to the classifier entry HE-MEDICINE, which
    requires accreditation, and return the university's programme it is accredited under."""
    campaign.programmes["medicine"].programme_code = "HE-MEDICINE"
    return await make_institution_programme(
        session, institution=campaign.university, code="HE-MEDICINE", name="Лечебное дело"
    )


class TestUniversityApplications:
    async def test_unlicensed_university_takes_no_applications(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given a campaign whose (state) universities hold no licence
        campaign = await arrange_campaign(session, licensed=False)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        # when an applicant applies to two programmes
        result = await _apply(
            hub, campaign, person, cert, ("informatics", "GRANT"), ("economics", "CONTRACT")
        )
        # then each choice is refused for the licence and nothing is written
        assert _codes(result) == [
            ("LICENCE_REQUIRED", "choices.0.programmeId"),
            ("LICENCE_REQUIRED", "choices.1.programmeId"),
        ]
        assert await rows(session, AdmissionApplication) == 0

    async def test_programme_needing_accreditation_opens_admission_only_when_accredited(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given medicine linked to a classifier entry that requires accreditation, not yet
        # accredited
        campaign = await arrange_campaign(session)
        subject = await accredited_medicine(session, campaign)
        person, cert = await make_applicant(
            session, campaign, main=200, subjects={"math": 90, "chemistry": 90, "biology": 90}
        )
        await session.commit()
        on_day(REGISTRATION)
        # when the applicant applies to medicine, then it is refused and nothing is written
        refused = await _apply(hub, campaign, person, cert, ("medicine", "GRANT"))
        assert _codes(refused) == [("ACCREDITATION_REQUIRED", "choices.0.programmeId")]
        assert await rows(session, AdmissionApplication) == 0
        # when the programme is accredited, then the application goes through
        agency = await make_accreditation_agency(session)
        await make_accreditation(
            session, institution=campaign.university, agency=agency, programme=subject
        )
        await session.commit()
        accepted = await _apply(hub, campaign, person, cert, ("medicine", "GRANT"))
        assert accepted["userErrors"] == []
        assert await rows(session, AdmissionApplication) == 1

    async def test_suspension_refuses_new_applicants_and_keeps_students_enrolled(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given a licensed university with a student already studying there
        campaign = await arrange_campaign(session)
        student = await make_person(session, birth_date=date(2005, 1, 1))
        studying = await make_enrollment(
            session,
            person=student,
            institution=campaign.university,
            programme="Прикладная информатика",
            entry_date=date(2024, 9, 1),
        )
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        # when its licence is suspended
        await suspend(hub, session, campaign.university.id)
        # then an applicant is refused there at once, while the other university still admits
        result = await _apply(hub, campaign, person, cert, ("informatics", "GRANT"))
        assert _codes(result) == [("LICENCE_REQUIRED", "choices.0.programmeId")]
        other = await _apply(hub, campaign, person, cert, ("economics", "GRANT"))
        assert other["userErrors"] == []
        # and the student stays enrolled
        assert await still_current(session, studying.id)


class TestProgrammeLink:
    async def test_a_programme_links_to_a_higher_education_classifier_entry(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        campaign = await arrange_campaign(session)
        await session.commit()

        async def create(code: str, programme_code: str) -> dict[str, Any]:
            body = await hub.data(
                CREATE_PROGRAMME,
                {
                    "input": {
                        "seasonId": gid("AdmissionSeason", campaign.season.id),
                        "institutionId": gid("Institution", campaign.university.id),
                        "code": code,
                        "name": "Педиатрия",
                        "fieldOfStudy": "health",
                        "programmeCode": programme_code,
                        "places": [{"category": "CONTRACT", "places": 5}],
                    }
                },
                token=ministry,
            )
            result: dict[str, Any] = body["createProgramme"]
            return result

        unknown = await create("PED1", "HE-NOPE")
        preschool = await create("PED2", "PRE-GENERAL")
        linked = await create("PED3", "he-pediatrics")
        assert _codes(unknown) == [("UNKNOWN_PROGRAMME", "programmeCode")]
        assert _codes(preschool) == [("UNKNOWN_PROGRAMME", "programmeCode")]
        assert linked["programme"] == {"code": "PED3", "programmeCode": "HE-PEDIATRICS"}


class TestRoundsAndOrder:
    async def test_a_programme_without_the_accreditation_it_needs_is_not_ranked(
        self,
        hub: Hub,
        session: AsyncSession,
        ministry: str,
        on_day: Callable[[date], None],
    ) -> None:
        # given an applicant who applied to accredited medicine first, informatics second
        campaign = await arrange_campaign(session)
        subject = await accredited_medicine(session, campaign)
        agency = await make_accreditation_agency(session)
        await make_accreditation(
            session,
            institution=campaign.university,
            agency=agency,
            programme=subject,
            valid_until=PUBLICATION - timedelta(days=1),
        )
        person, cert = await make_applicant(
            session, campaign, main=200, subjects={"math": 90, "chemistry": 90, "biology": 90}
        )
        await session.commit()
        on_day(REGISTRATION)
        applied = await _apply(
            hub, campaign, person, cert, ("medicine", "GRANT"), ("informatics", "GRANT")
        )
        assert applied["userErrors"] == []
        # when the accreditation has run out by publication day and the round is published
        on_day(PUBLICATION)
        published = await _publish(hub, ministry, campaign.round1)
        # then medicine recommends no one and the applicant is recommended at informatics;
        # the medicine application stays active for a later round
        assert (published["recommended"], published["userErrors"]) == (1, [])
        offered = await committed(session, select(AdmissionOffer.programme_id))
        assert offered == [campaign.programmes["informatics"].id]
        statuses = list(
            await session.scalars(
                select(AdmissionApplication.status).order_by(AdmissionApplication.preference)
            )
        )
        assert statuses == ["active", "active"]

    async def test_the_order_enrolls_no_one_into_an_unlicensed_university(
        self,
        hub: Hub,
        session: AsyncSession,
        ministry: str,
        on_day: Callable[[date], None],
    ) -> None:
        # given an applicant who confirmed a place at the university
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        assert (await _apply(hub, campaign, person, cert, ("informatics", "GRANT")))[
            "userErrors"
        ] == []
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        (offer_id,) = await committed(session, select(AdmissionOffer.id))
        confirmed = await hub.data(
            CONFIRM_PLACE,
            {"input": {"offerId": gid("AdmissionOffer", offer_id)}},
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        assert confirmed["confirmPlace"]["userErrors"] == []
        on_day(PUBLICATION_2)
        await _publish(hub, ministry, campaign.round2)
        # when the university's licence is suspended before the admission order
        on_day(AFTER_SEASON)
        await suspend(hub, session, campaign.university.id)
        refused = await _order(hub, ministry, campaign)
        # then the order is refused, no one is enrolled and the season stays open
        assert _codes(refused) == [("LICENCE_REQUIRED", "seasonId")]
        higher = (
            select(func.count()).select_from(Enrollment).where(Enrollment.sector == Sector.HIGHER)
        )
        assert await committed(session, higher) == [0]
        assert await committed(session, select(AdmissionSeason.status)) == ["open"]
        # when the licence is restored, then the order enrolls the applicant
        await restore(hub, session, campaign.university.id)
        issued = await _order(hub, ministry, campaign)
        assert (issued["order"], issued["userErrors"]) == ({"enrollments": 1}, [])
