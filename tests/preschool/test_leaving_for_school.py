"""A child at school holds no kindergarten place, queue application or offer (domain.md K7;
issue 12, findings 1 and 2): every path that opens a school enrollment ends them in its
transaction and gives the seats back, the kindergarten's offers refuse a child at school, and
the database refuses the overlap. The races run real concurrent transactions in both orders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    Enrollment,
    ExitReason,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPlaces,
    OfferStatus,
    Person,
    QueueStatus,
    Sector,
    database,
)
from resolvers import enrollments as enrollments_service
from resolvers import first_grade as first_grade_service
from resolvers import preschool as preschool_service
from resolvers.access import Principal, Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.enrollments.helpers import ENROLL_STUDENT, TRANSFER_STUDENT, run_mutation
from tests.factories import (
    gid,
    make_enrollment,
    make_first_grade_application,
    make_institution,
    make_intake_season,
    make_kindergarten_application,
    make_kindergarten_places,
)
from tests.first_grade.test_first_grade import ALLOCATE, School, arrange, child_of
from tests.first_grade.test_withdrawal import blocked_on_a_lock
from tests.people.helpers import count_rows, outbox_topics, user_error_codes
from tests.preschool.helpers import errors_of
from tests.preschool.test_offers import ACCEPT, CONFIRM

GROUP = "6-7"


@dataclass
class Town:
    """A first-grade season with a school (and its mother), a kindergarten season with a
    kindergarten, and one child of school age."""

    s: School
    kg_season: IntakeSeason
    kindergarten: Institution
    child: Person

    @property
    def school(self) -> Institution:
        return self.s.school


async def arrange_town(session: AsyncSession) -> Town:
    s = await arrange(session)
    kg_season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
    child = await child_of(session, s, born=date(s.season.year - 6, 1, 1))
    return Town(s, kg_season, kindergarten, child)


@dataclass
class Seat:
    """A kindergarten age group's places row with one seat free and one the child holds or is
    offered: two seats in all, whatever happens to the child."""

    places: KindergartenPlaces
    application: KindergartenApplication
    offer: KindergartenOffer


async def a_seat(session: AsyncSession, town: Town, status: OfferStatus) -> Seat:
    """The child's queue application with an offer in ``status`` (open, accepted, or admitted
    with the kindergarten enrollment it led to)."""
    application_status = {
        OfferStatus.OPEN: QueueStatus.OFFERED,
        OfferStatus.ACCEPTED: QueueStatus.ACCEPTED,
        OfferStatus.ADMITTED: QueueStatus.ADMITTED,
    }[status]
    application = await make_kindergarten_application(
        session,
        child=town.child,
        guardian=town.s.mother,
        kindergartens=[town.kindergarten],
        season=town.kg_season,
        age_group=GROUP,
        status=application_status,
    )
    places = await make_kindergarten_places(
        session, kindergarten=town.kindergarten, season=town.kg_season, age_group=GROUP
    )
    offer = KindergartenOffer(
        application_id=application.id,
        places_id=places.id,
        kindergarten_id=town.kindergarten.id,
        age_group=GROUP,
        status=status,
        deadline=today() + timedelta(days=21),
        offered_by="test",
    )
    session.add(offer)
    if status == OfferStatus.ADMITTED:
        held = await make_enrollment(
            session,
            person=town.child,
            institution=town.kindergarten,
            entry_date=date(2024, 9, 1),
            class_group=GROUP,
        )
        application.enrollment_id = held.id
    await session.flush()
    return Seat(places, application, offer)


async def free_places(engine: AsyncEngine, seat: Seat) -> int:
    async with engine.connect() as conn:
        free = await conn.scalar(
            select(KindergartenPlaces.free_places).where(KindergartenPlaces.id == seat.places.id)
        )
    return int(free or 0)


async def kindergarten_side(engine: AsyncEngine, seat: Seat) -> dict[str, Any]:
    """What the child holds on the kindergarten side, as stored."""
    async with engine.connect() as conn:
        application = await conn.scalar(
            select(KindergartenApplication.status).where(
                KindergartenApplication.id == seat.application.id
            )
        )
        offer = await conn.scalar(
            select(KindergartenOffer.status).where(KindergartenOffer.id == seat.offer.id)
        )
        places = (
            await conn.execute(
                select(
                    Enrollment.sector,
                    Enrollment.entry_date,
                    Enrollment.exit_date,
                    Enrollment.exit_reason,
                )
                .where(Enrollment.person_id == seat.application.child_id)
                .order_by(Enrollment.id)
            )
        ).all()
        history = (
            await conn.execute(
                select(KindergartenApplicationEvent.status, KindergartenApplicationEvent.reason)
                .where(KindergartenApplicationEvent.application_id == seat.application.id)
                .order_by(KindergartenApplicationEvent.id)
            )
        ).all()
    return {
        "application": application,
        "offer": offer,
        "enrollments": [tuple(p) for p in places],
        "history": [tuple(h) for h in history],
        "free": await free_places(engine, seat),
    }


def enroll_values(town: Town, school: Institution, on: date) -> dict[str, Any]:
    return {
        "personId": gid("Person", town.child.id),
        "institutionId": gid("Institution", school.id),
        "entryDate": on.isoformat(),
        "gradeLevel": 1,
    }


def admin_of(hub: Hub, *institutions: Institution) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{i.id}" for i in institutions])


def guardian(hub: Hub, town: Town) -> str:
    return hub.token(Role.GUARDIAN, person_id=town.s.mother.id)


class TestEnrollStudentIntoSchool:
    async def test_enrolling_in_school_ends_the_kindergarten_place_and_returns_its_seat_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child who holds a kindergarten place (one seat of two; the other free)
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ADMITTED)
        await session.commit()
        first_day = today() + timedelta(days=30)

        # when the school enrolls the child in grade 1 from a month ahead
        payload = await run_mutation(
            hub,
            ENROLL_STUDENT,
            "enrollStudent",
            admin_of(hub, town.school),
            **enroll_values(town, town.school, first_day),
            pin=town.child.pin,
        )

        # then (K7) the kindergarten place ends that day, the queue application is cancelled
        # (the seat it held goes back to free places), and the school place is open
        assert payload["userErrors"] == []
        after = await kindergarten_side(engine, seat)
        assert after["enrollments"] == [
            (Sector.PRESCHOOL, date(2024, 9, 1), first_day, ExitReason.COMPLETED_LEVEL),
            (Sector.SCHOOL, first_day, None, None),
        ]
        assert (after["application"], after["offer"], after["free"]) == (
            QueueStatus.CANCELLED,
            OfferStatus.ADMITTED,
            2,
        )
        assert after["history"] == [(QueueStatus.CANCELLED, "left for school")]
        assert "preschool.application_cancelled" in await outbox_topics(engine)

    async def test_enrolling_in_school_cancels_the_queue_application_and_live_offer_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child offered a kindergarten place
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await session.commit()

        # when the ministry enrolls the child in a school today
        payload = await run_mutation(
            hub,
            ENROLL_STUDENT,
            "enrollStudent",
            hub.token(Role.MINISTRY),
            **enroll_values(town, town.school, today()),
        )

        # then the application and the offer are cancelled and the offered seat is free again
        assert payload["userErrors"] == []
        after = await kindergarten_side(engine, seat)
        assert (after["application"], after["offer"], after["free"]) == (
            QueueStatus.CANCELLED,
            OfferStatus.CANCELLED,
            2,
        )

    async def test_a_child_at_school_is_not_enrolled_in_a_kindergarten_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a pupil at school
        town = await arrange_town(session)
        await make_enrollment(session, person=town.child, institution=town.school, grade_level=1)
        await session.commit()

        # when the kindergarten enrolls the child
        payload = await run_mutation(
            hub,
            ENROLL_STUDENT,
            "enrollStudent",
            hub.token(Role.MINISTRY),
            personId=gid("Person", town.child.id),
            institutionId=gid("Institution", town.kindergarten.id),
            entryDate=today().isoformat(),
        )

        # then it is refused with a code, and nothing is written
        assert user_error_codes(payload) == ["ALREADY_ENROLLED"]
        assert payload["userErrors"][0]["field"] == "entryDate"
        assert await count_rows(engine, Enrollment) == 1


class TestTransferStudentIntoSchool:
    async def test_transfer_into_a_school_ends_the_kindergarten_side_too_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a pupil at school who (as older records have it) also holds an accepted
        # kindergarten offer
        town = await arrange_town(session)
        other = await make_institution(session, kind=InstitutionKind.SCHOOL)
        place = await make_enrollment(
            session,
            person=town.child,
            institution=town.school,
            grade_level=1,
            entry_date=today() - timedelta(days=60),
        )
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await session.commit()

        # when the pupil transfers to another school
        payload = await run_mutation(
            hub,
            TRANSFER_STUDENT,
            "transferStudent",
            admin_of(hub, town.school, other),
            enrollmentId=gid("Enrollment", place.id),
            toInstitutionId=gid("Institution", other.id),
            date=today().isoformat(),
        )

        # then the offer and the application end, and the seat is free again
        assert payload["userErrors"] == []
        after = await kindergarten_side(engine, seat)
        assert (after["application"], after["offer"], after["free"]) == (
            QueueStatus.CANCELLED,
            OfferStatus.CANCELLED,
            2,
        )


class TestFirstGradeAdmission:
    async def test_allocation_ends_the_kindergarten_place_and_returns_the_held_seat_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child who holds a kindergarten place and applied for first grade
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ADMITTED)
        await make_first_grade_application(
            session,
            child=town.child,
            guardian=town.s.mother,
            school=town.school,
            season=town.s.season,
        )
        await session.commit()

        # when the school allocates its places
        body = await hub.gql(ALLOCATE, allocate_input(town), token=admin_of(hub, town.school))

        # then the child is admitted; the kindergarten place ends on the first school day; the
        # admitted queue application is cancelled; the seat goes back to free places
        assert body["data"]["allocateFirstGradePlaces"]["admitted"] == 1, body
        after = await kindergarten_side(engine, seat)
        start = town.s.season.school_year_starts
        assert after["enrollments"] == [
            (Sector.PRESCHOOL, date(2024, 9, 1), start, ExitReason.COMPLETED_LEVEL),
            (Sector.SCHOOL, start, None, None),
        ]
        assert (after["application"], after["free"]) == (QueueStatus.CANCELLED, 2)


def allocate_input(town: Town) -> dict[str, Any]:
    return {
        "input": {
            "seasonId": gid("IntakeSeason", town.s.season.id),
            "schoolId": gid("Institution", town.school.id),
        }
    }


class TestOffersRefuseAChildAtSchool:
    async def test_confirmation_is_refused_to_a_child_with_a_school_place_ahead_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child with an accepted offer and a school place from next September
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await make_enrollment(
            session,
            person=town.child,
            institution=town.school,
            grade_level=1,
            entry_date=town.s.season.school_year_starts,
        )
        await session.commit()
        before = await kindergarten_side(engine, seat)

        # when the kindergarten confirms the admission from today
        body = await hub.gql(
            CONFIRM,
            {"input": {"offerId": gid("KindergartenOffer", seat.offer.id)}},
            token=admin_of(hub, town.kindergarten),
        )

        # then it is refused with a code and nothing changes
        assert errors_of(body, "confirmAdmission") == ["ALREADY_ENROLLED"]
        assert await kindergarten_side(engine, seat) == before

    async def test_acceptance_is_refused_to_a_child_at_school_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a pupil at school who holds an open offer
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await make_enrollment(session, person=town.child, institution=town.school, grade_level=1)
        await session.commit()
        before = await kindergarten_side(engine, seat)

        # when the mother accepts the offer
        body = await hub.gql(
            ACCEPT,
            {"input": {"offerId": gid("KindergartenOffer", seat.offer.id)}},
            token=guardian(hub, town),
        )

        # then it is refused with a code and nothing changes
        assert errors_of(body, "acceptOffer") == ["ALREADY_ENROLLED"]
        assert await kindergarten_side(engine, seat) == before

    def test_the_queue_registers_its_step_with_the_registrys_school_entry(self) -> None:
        # enrollStudent and transferStudent (the registry) reach the queue through this hook
        assert preschool_service.leave_for_school in enrollments_service.school_entry_steps()


# --- races: real concurrent transactions, in both orders ------------------------------------


def school_admin(town: Town) -> Principal:
    return Principal(
        subject="school:race",
        role=Role.SCHOOL_ADMIN,
        institution_ids=frozenset({town.school.id, town.kindergarten.id}),
    )


async def k7_holds(engine: AsyncEngine, seat: Seat) -> None:
    """The child is at school and holds nothing on the kindergarten side (a kindergarten place
    ends by the first school day); both seats are free."""
    after = await kindergarten_side(engine, seat)
    sectors = [e[0] for e in after["enrollments"]]
    assert sectors.count(Sector.SCHOOL) == 1, after
    school_starts = next(e[1] for e in after["enrollments"] if e[0] == Sector.SCHOOL)
    for sector, _entry, exit_date, _reason in after["enrollments"]:
        if sector == Sector.PRESCHOOL:
            assert exit_date is not None, after
            assert exit_date <= school_starts, after
    assert after["application"] == QueueStatus.CANCELLED, after
    assert after["offer"] in (OfferStatus.CANCELLED, OfferStatus.ADMITTED), after
    assert after["free"] == 2, after


class TestAllocationRacingConfirmation:
    async def test_confirmation_first_then_allocation_ends_the_new_place_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a first-grade applicant whose accepted kindergarten offer is being confirmed in
        # a transaction not yet committed
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await make_first_grade_application(
            session,
            child=town.child,
            guardian=town.s.mother,
            school=town.school,
            season=town.s.season,
        )
        await session.commit()
        async with database.session_factory(engine)() as confirming:
            await preschool_service.confirm_admission(
                confirming, school_admin(town), offer_id=seat.offer.id, entry_date=None
            )
            # when the school allocates meanwhile, and the confirmation then commits
            allocation = asyncio.create_task(
                hub.gql(ALLOCATE, allocate_input(town), token=admin_of(hub, town.school))
            )
            await blocked_on_a_lock(engine, allocation)
            await confirming.commit()
        body = await allocation

        # then the allocation saw the kindergarten place and ended it on the first school day:
        # the child is in grade 1 and holds nothing in the kindergarten (K7)
        assert body["data"]["allocateFirstGradePlaces"]["admitted"] == 1, body
        await k7_holds(engine, seat)

    async def test_allocation_first_then_confirmation_is_refused_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the same child, being allocated in a transaction not yet committed
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await make_first_grade_application(
            session,
            child=town.child,
            guardian=town.s.mother,
            school=town.school,
            season=town.s.season,
        )
        await session.commit()
        async with database.session_factory(engine)() as allocating:
            await first_grade_service.allocate_first_grade_places(
                allocating, school_admin(town), season_id=town.s.season.id, school_id=town.school.id
            )
            # when the kindergarten confirms meanwhile, and the allocation then commits
            confirmation = asyncio.create_task(
                hub.gql(
                    CONFIRM,
                    {"input": {"offerId": gid("KindergartenOffer", seat.offer.id)}},
                    token=admin_of(hub, town.kindergarten),
                )
            )
            await blocked_on_a_lock(engine, confirmation)
            await allocating.commit()
        body = await confirmation

        # then the confirmation waited and was refused: the offer is gone with the school place
        assert errors_of(body, "confirmAdmission") in (["OFFER_NOT_ACCEPTED"], ["ALREADY_ENROLLED"])
        await k7_holds(engine, seat)
        assert await count_rows(engine, Enrollment, Enrollment.sector == Sector.PRESCHOOL) == 0


class TestEnrollmentRacingAcceptance:
    async def test_acceptance_first_then_enrollment_cancels_the_offer_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child offered a kindergarten place, the mother's acceptance not committed
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await session.commit()
        mother = Principal(subject="guardian:race", role=Role.GUARDIAN, person_id=town.s.mother.id)
        async with database.session_factory(engine)() as accepting:
            await preschool_service.accept_offer(accepting, mother, offer_id=seat.offer.id)
            # when the school enrolls the child meanwhile, and the acceptance then commits
            enrollment = asyncio.create_task(
                hub.gql(
                    ENROLL_STUDENT,
                    {"input": {**enroll_values(town, town.school, today()), "pin": town.child.pin}},
                    token=admin_of(hub, town.school),
                )
            )
            await blocked_on_a_lock(engine, enrollment)
            await accepting.commit()
        body = await enrollment

        # then the enrollment waited, saw the accepted offer and cancelled it (K7)
        assert errors_of(body, "enrollStudent") == []
        await k7_holds(engine, seat)

    async def test_enrollment_first_then_acceptance_is_refused_k7(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the same child being enrolled at school in a transaction not yet committed
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await session.commit()
        admin = Principal(
            subject="school:race",
            role=Role.SCHOOL_ADMIN,
            institution_ids=frozenset({town.school.id}),
        )
        async with database.session_factory(engine)() as enrolling:
            await enrollments_service.enroll_student(
                enrolling,
                admin,
                person_id=town.child.id,
                institution_id=town.school.id,
                entry_date=today(),
                grade_level=1,
                programme=None,
                class_group=None,
                pin=town.child.pin,
            )
            # when the mother accepts meanwhile, and the enrollment then commits
            acceptance = asyncio.create_task(
                hub.gql(
                    ACCEPT,
                    {"input": {"offerId": gid("KindergartenOffer", seat.offer.id)}},
                    token=guardian(hub, town),
                )
            )
            await blocked_on_a_lock(engine, acceptance)
            await enrolling.commit()
        body = await acceptance

        # then the acceptance waited and was refused with a code
        assert errors_of(body, "acceptOffer") in (["OFFER_NOT_OPEN"], ["ALREADY_ENROLLED"])
        await k7_holds(engine, seat)
