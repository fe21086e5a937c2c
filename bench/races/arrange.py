"""Fresh state for every run, written straight into the database the hub serves.

Rows are made by the test suite's factories (``tests/factories.py``, kept true to the models by
the suite itself), so the harness runs from the repository root. The seasons are shared: the
first-grade and kindergarten seasons open today (as the hub finds them) and one admission
campaign with a round open for registration. Everything else is new in every run, and every run
gets a district of its own, so a district officer's allocation sees only what its run arranged.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.races.checks import Seats
from bench.races.hub import Tokens
from models import (
    AdmissionProgramme,
    AdmissionSeason,
    CatchmentArea,
    District,
    DistrictKind,
    Enrollment,
    FirstGradeApplication,
    FirstGradeStatus,
    GuardianKind,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenOffer,
    NationalTestResult,
    OfferStatus,
    Person,
    PersonPin,
    QueueStatus,
    Sex,
    database,
)
from resolvers import first_grade as first_grade_service
from resolvers import intake as intake_service
from resolvers.clock import today
from resolvers.people.pin import make_pin
from resolvers.relay import encode_id

try:
    from tests import factories
except ImportError as err:  # pragma: no cover - a checkout without its tests
    raise SystemExit(
        "bench.races arranges its data with tests/factories.py: run it from the repository root"
    ) from err

STREET = "ул. Ахунбаева"
ADDRESS = f"{STREET}, 12"
ADMISSION_YEARS = range(2026, 1999, -1)  # the hub admits seasons of 2000-2100


def gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


@dataclass(frozen=True)
class Seasons:
    """What every run shares: the seasons open today and one admission campaign."""

    first_grade: IntakeSeason
    kindergarten: IntakeSeason
    age_groups: list[Any]
    admission: AdmissionSeason
    programmes: list[AdmissionProgramme]

    @property
    def first_grade_birth_year(self) -> int:
        """Children born in Y-6 enter grade 1 in the school year starting in Y (F4)."""
        return self.first_grade.school_year_starts.year - 6

    def age_group(self, born: date) -> str:
        """The queue's age group of a child born on ``born`` (on 1 September of the intake)."""
        months = intake_service.months_between(born, date(self.kindergarten.year, 9, 1))
        for group in self.age_groups:
            if group.min_months <= months < group.max_months:
                return str(group.code)
        return str(self.age_groups[-1].code)


class Arena:
    """The database the hub serves, seen from the harness: sessions to arrange each run and
    a connection to check it, and the seasons every run shares."""

    def __init__(self, database_url: str, tokens: Tokens) -> None:
        self.engine: AsyncEngine = database.create_engine(database_url, pool_size=2)
        self.plain_url = database.plain_url(database_url)
        self.tokens = tokens
        self.seasons: Seasons | None = None
        self.checker: asyncpg.Connection | None = None

    async def open(self) -> None:
        self.checker = await asyncpg.connect(self.plain_url)
        async with self.session() as session:
            self.seasons = await _seasons(session)

    async def close(self) -> None:
        if self.checker is not None:
            await self.checker.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose writes are committed when the block ends without an error."""
        async with database.session_factory(self.engine)() as session:
            yield session
            await session.commit()

    @asynccontextmanager
    async def town(self) -> AsyncIterator[Town]:
        """A fresh district for one run, committed before the racers start."""
        assert self.seasons is not None
        async with self.session() as session:
            tag = secrets.token_hex(4)
            district = District(
                region_id=factories.BISHKEK,
                code=f"RACE-{tag}",
                kind=DistrictKind.CITY_DISTRICT,
                name_ky=f"Жарыш {tag}",
                name_ru=f"Гонка {tag}",
                name_en=f"Race {tag}",
            )
            session.add(district)
            await session.flush()
            yield Town(session, self.seasons, self.tokens, district.id, tag)


async def _seasons(session: AsyncSession) -> Seasons:
    """The seasons the hub takes as open today (made or moved by the factories first)."""
    on = today()
    await factories.make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    await factories.make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    first_grade = await first_grade_service.open_first_grade_season(session, on)
    kindergarten = await intake_service.current_season(session, IntakeKind.KINDERGARTEN, on)
    groups = await intake_service.age_groups(session, kindergarten.id)
    admission, programmes = await _campaign(session)
    return Seasons(first_grade, kindergarten, groups, admission, programmes)


async def _campaign(session: AsyncSession) -> tuple[AdmissionSeason, list[AdmissionProgramme]]:
    """A main-intake admission season of a year no season holds yet, its first round open for
    registration today, a licensed university and two programmes with contract places."""
    used = set(
        await session.scalars(select(AdmissionSeason.year).where(AdmissionSeason.intake == "main"))
    )
    year = next((y for y in ADMISSION_YEARS if y not in used), None)
    if year is None:
        raise SystemExit("no free admission year left in this database for the races' campaign")
    on = today()
    season = await factories.make_admission_season(session, year=year)
    await factories.make_admission_round(
        session,
        season=season,
        registration_opens=on - timedelta(days=5),
        registration_closes=on + timedelta(days=5),
        publication_on=on + timedelta(days=7),
        confirmation_opens=on + timedelta(days=7),
        confirmation_closes=on + timedelta(days=12),
    )
    university = await factories.make_institution(
        session, kind=InstitutionKind.UNIVERSITY, name=f"Университет гонок {year}"
    )
    await factories.make_licence(session, institution=university, levels=["higher"])
    programmes = [
        await factories.make_programme(
            session,
            season=season,
            university=university,
            code=f"RACE{n}",
            places={"bishkek": 5, "contract": 100_000},
        )
        for n in (1, 2)
    ]
    return season, programmes


@dataclass
class Town:
    """One run's district and the builders of its rows (all in one session, committed before
    the race)."""

    session: AsyncSession
    seasons: Seasons
    tokens: Tokens
    district_id: int
    tag: str

    async def school(self, *, design_capacity: int = 900) -> Institution:
        """A state school of the district (no licence needed) with a catchment area."""
        school = await factories.make_institution(
            self.session,
            kind=InstitutionKind.SCHOOL,
            name=f"Мектеп {self.tag}",
            district_id=self.district_id,
            design_capacity=design_capacity,
        )
        self.session.add(
            CatchmentArea(
                institution_id=school.id,
                district_id=self.district_id,
                name=f"мкр. {self.tag}",
                streets=[STREET],
            )
        )
        await self.session.flush()
        return school

    async def kindergarten(self) -> Institution:
        return await factories.make_institution(
            self.session,
            kind=InstitutionKind.KINDERGARTEN,
            name=f"Бала бакча {self.tag}",
            district_id=self.district_id,
        )

    async def person(self, *, born: date, sex: Sex = Sex.FEMALE, **kwargs: Any) -> Person:
        """A person with a PIN no one holds or held (runs of other days share the database)."""
        while True:
            pin = make_pin(sex=sex, birth_date=born, serial=secrets.randbelow(100_000))
            taken = await self.session.scalar(
                select(PersonPin.id).where(PersonPin.pin == pin).limit(1)
            ) or await self.session.scalar(select(Person.id).where(Person.pin == pin).limit(1))
            if taken is None:
                return await factories.make_person(
                    self.session, sex=sex, birth_date=born, pin=pin, **kwargs
                )

    async def mother(self) -> Person:
        return await self.person(born=date(1990, 4, 2), first_name="Гульнара")

    async def child(self, mother: Person, *, born: date | None = None) -> Person:
        """A child of ``mother`` registered in the district's catchment street; by default of
        the age to enter grade 1 this season."""
        born = born or date(self.seasons.first_grade_birth_year, 1 + secrets.randbelow(12), 10)
        child = await self.person(
            born=born,
            sex=Sex.MALE,
            first_name="Айбек",
            registered_district_id=self.district_id,
            registered_address=ADDRESS,
        )
        await factories.make_guardianship(
            self.session, guardian=mother, child=child, kind=GuardianKind.MOTHER
        )
        return child

    async def applicants(
        self, mother: Person, school: Institution, count: int
    ) -> list[FirstGradeApplication]:
        """``count`` children of ``mother``, each with a verified application to ``school``."""
        return [
            await self.first_grade_application(await self.child(mother), mother, school)
            for _ in range(count)
        ]

    async def first_grade_application(
        self, child: Person, mother: Person, school: Institution
    ) -> FirstGradeApplication:
        return await factories.make_first_grade_application(
            self.session,
            child=child,
            guardian=mother,
            school=school,
            season=self.seasons.first_grade,
            status=FirstGradeStatus.VERIFIED,
        )

    async def quota(self, school: Institution, places: int) -> None:
        await factories.make_first_grade_quota(
            self.session, school=school, season=self.seasons.first_grade, places=places
        )

    async def offer(
        self, child: Person, mother: Person, kindergarten: Institution, status: OfferStatus
    ) -> Offer:
        """The child's queue application with a live offer of ``kindergarten`` in ``status``
        (open or accepted), on a places row that keeps one more seat free."""
        group = self.seasons.age_group(child.birth_date)
        application = await factories.make_kindergarten_application(
            self.session,
            child=child,
            guardian=mother,
            kindergartens=[kindergarten],
            season=self.seasons.kindergarten,
            age_group=group,
            status=QueueStatus.ACCEPTED if status == OfferStatus.ACCEPTED else QueueStatus.OFFERED,
        )
        places = await factories.make_kindergarten_places(
            self.session,
            kindergarten=kindergarten,
            season=self.seasons.kindergarten,
            age_group=group,
            free_places=1,
        )
        offer = KindergartenOffer(
            application_id=application.id,
            places_id=places.id,
            kindergarten_id=kindergarten.id,
            age_group=group,
            status=status,
            deadline=today() + timedelta(days=21),
            offered_by="bench-races",
        )
        self.session.add(offer)
        await self.session.flush()
        return Offer(application.id, offer.id, Seats(places.id, declared=2))

    async def school_place(self, child: Person, school: Institution) -> Enrollment:
        """An open grade-1 place since this school year began."""
        start = self.seasons.first_grade.school_year_starts
        return await factories.make_enrollment(
            self.session,
            person=child,
            institution=school,
            grade_level=1,
            entry_date=start.replace(year=start.year - 1),
        )

    async def applicant_with_certificate(self) -> tuple[Person, NationalTestResult]:
        """A school leaver holding a national test certificate of the campaign's year."""
        person = await self.person(born=date(2008, 3, 14), first_name="Нурай")
        certificate = await factories.make_test_result(
            self.session,
            person=person,
            year=self.seasons.admission.year,
            certificate_number=certificate_number(),
            subject_scores={"math": 90},
        )
        return person, certificate

    async def queue_applicant(self, mother: Person) -> Person:
        """A child of queue age (three) with no application yet."""
        return await self.child(mother, born=date(today().year - 3, 2, 1))


@dataclass(frozen=True)
class Offer:
    application_id: int
    offer_id: int
    seats: Seats


def certificate_number() -> str:
    """A certificate number no run has used (the format the import accepts)."""
    return f"RC{secrets.token_hex(6).upper()}"
