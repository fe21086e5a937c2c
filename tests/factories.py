"""One factory per model: rows arranged directly in the database, with valid defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    ApiKey,
    BellPeriod,
    BenefitCategory,
    BenefitStatus,
    CatchmentArea,
    ClassGroup,
    ClassLesson,
    ClassLessonStatus,
    ClassMembership,
    CurriculumModel,
    Enrollment,
    FirstGradeApplication,
    FirstGradeQuota,
    FirstGradeStage,
    FirstGradeStatus,
    GuardianKind,
    Guardianship,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenAgeGroup,
    KindergartenApplication,
    KindergartenPlaces,
    KindergartenPreference,
    Language,
    Ownership,
    Person,
    PersonPin,
    PinChangeReason,
    QueueStatus,
    Residency,
    Room,
    Sector,
    Sex,
    StaffPosition,
    StaffRole,
    Subject,
    TeachingAssignment,
    Term,
    TimetableSlot,
)
from resolvers.clock import today
from resolvers.enrollments import SECTOR_OF_KIND
from resolvers.people.pin import make_pin
from resolvers.relay import encode_id

_serial = itertools.count(1)
BISHKEK = 8  # region id of Bishkek city (migration data)
BISHKEK_LENIN = 50  # Lenin district of Bishkek (migration data)
CHUY = 7
CHUY_SOKULUK = 45


def gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


async def make_person(
    session: AsyncSession,
    *,
    sex: Sex = Sex.FEMALE,
    birth_date: date = date(2016, 5, 17),
    first_name: str = "Айгерим",
    last_name: str = "Асанова",
    patronymic: str | None = "Бакытовна",
    pin: str | None = None,
    **kwargs: Any,
) -> Person:
    pin = pin or make_pin(sex=sex, birth_date=birth_date, serial=next(_serial))
    person = Person(
        pin=pin,
        sex=sex,
        birth_date=birth_date,
        first_name=first_name,
        last_name=last_name,
        patronymic=patronymic,
        **kwargs,
    )
    session.add(person)
    await session.flush()
    session.add(PersonPin(person_id=person.id, pin=pin, reason=PinChangeReason.ISSUED))
    await session.flush()
    return person


async def make_institution(
    session: AsyncSession,
    *,
    kind: InstitutionKind = InstitutionKind.SCHOOL,
    name: str | None = None,
    region_id: int | None = BISHKEK,
    district_id: int | None = BISHKEK_LENIN,
    ownership: Ownership = Ownership.STATE,
    **kwargs: Any,
) -> Institution:
    n = next(_serial)
    inst = Institution(
        kind=kind,
        ownership=ownership,
        name=name or f"№{n} {kind.value}",
        region_id=region_id,
        district_id=district_id,
        languages=kwargs.pop("languages", ["ky", "ru"]),
        design_capacity=kwargs.pop("design_capacity", 900),
        country_code=kwargs.pop("country_code", "KG"),
        **kwargs,
    )
    session.add(inst)
    await session.flush()
    return inst


async def make_enrollment(
    session: AsyncSession,
    *,
    person: Person,
    institution: Institution,
    entry_date: date = date(2025, 9, 1),
    grade_level: int | None = None,
    exit_date: date | None = None,
    class_group: str | None = None,
    **kwargs: Any,
) -> Enrollment:
    sector: Sector = SECTOR_OF_KIND[institution.kind]
    if grade_level is None and sector == Sector.SCHOOL:
        grade_level = 3
    enrollment = Enrollment(
        person_id=person.id,
        institution_id=institution.id,
        sector=sector,
        entry_date=entry_date,
        exit_date=exit_date,
        grade_level=grade_level,
        class_group=class_group,
        exit_reason=kwargs.pop("exit_reason", None) or (None if exit_date is None else "withdrawn"),
        programme=kwargs.pop("programme", None if sector != Sector.HIGHER else "Информатика"),
        **kwargs,
    )
    session.add(enrollment)
    await session.flush()
    return enrollment


async def make_guardianship(
    session: AsyncSession,
    *,
    guardian: Person,
    child: Person,
    kind: GuardianKind = GuardianKind.MOTHER,
) -> Guardianship:
    link = Guardianship(guardian_id=guardian.id, child_id=child.id, kind=kind)
    session.add(link)
    await session.flush()
    return link


async def make_staff_position(
    session: AsyncSession,
    *,
    person: Person,
    institution: Institution,
    role: StaffRole = StaffRole.TEACHER,
    start_date: date = date(2020, 9, 1),
    subject: str | None = None,
) -> StaffPosition:
    post = StaffPosition(
        person_id=person.id,
        institution_id=institution.id,
        role=role,
        start_date=start_date,
        rate=1.0,
        subject=subject,
    )
    session.add(post)
    await session.flush()
    return post


async def make_catchment_area(
    session: AsyncSession,
    *,
    institution: Institution,
    district_id: int = BISHKEK_LENIN,
    name: str = "мкр. Джал",
    streets: list[str] | None = None,
) -> CatchmentArea:
    area = CatchmentArea(
        institution_id=institution.id,
        district_id=district_id,
        name=name,
        streets=streets or ["ул. Ахунбаева", "ул. Токомбаева"],
    )
    session.add(area)
    await session.flush()
    return area


async def make_family(
    session: AsyncSession,
    *,
    children: int = 1,
    child_birth: date = date(2016, 5, 17),
) -> tuple[Person, list[Person]]:
    """A mother and her children."""
    mother = await make_person(
        session,
        birth_date=date(1988, 3, 2),
        first_name="Гульнара",
        last_name="Сыдыкова",
        patronymic="Асановна",
    )
    kids = []
    for i in range(children):
        kid = await make_person(
            session,
            birth_date=child_birth.replace(year=child_birth.year - i),
            first_name=["Айбек", "Нурлан", "Эмир", "Тимур"][i % 4],
            last_name="Сыдыков",
            patronymic="Маратович",
            sex=Sex.MALE,
        )
        await make_guardianship(session, guardian=mother, child=kid)
        kids.append(kid)
    return mother, kids


# --- kindergarten queue and first-grade enrollment -----------------------------------------


async def make_intake_season(
    session: AsyncSession, *, kind: IntakeKind, **policy: Any
) -> IntakeSeason:
    """A season of ``kind`` running today (the migration's seeded row of that year, moved
    around today, or a new one), with the seeded policy unless ``policy`` overrides it.
    Kindergarten: year = this year. First grade: stage 1 open today, year = the school year
    starting next September."""
    from sqlalchemy import select

    on = today()
    if kind == IntakeKind.KINDERGARTEN:
        year = policy.pop("year", on.year)
        dates: dict[str, Any] = {
            "starts_on": on - timedelta(days=100),
            "ends_on": on + timedelta(days=200),
            "school_year_starts": date(year, 9, 1),
        }
    else:
        year = policy.pop("year", on.year + 1 if on.month >= 9 else on.year)
        dates = {
            "starts_on": on - timedelta(days=10),
            "ends_on": on + timedelta(days=300),
            "school_year_starts": date(year, 9, 1),
            "stage1_starts": on - timedelta(days=10),
            "stage1_ends": on + timedelta(days=10),
            "stage2_starts": on + timedelta(days=11),
            "stage2_ends": on + timedelta(days=40),
        }
    dates.update(policy)
    season = await session.scalar(
        select(IntakeSeason).where(IntakeSeason.kind == kind, IntakeSeason.year == year)
    )
    if season is None:
        season = IntakeSeason(kind=kind, year=year, name=f"{kind.value} {year}", **dates)
        session.add(season)
        await session.flush()
        if kind == IntakeKind.KINDERGARTEN:
            for code, lo, hi, size in (
                ("2-3", 24, 36, 25),
                ("3-4", 36, 48, 30),
                ("4-5", 48, 60, 30),
                ("5-6", 60, 72, 30),
                ("6-7", 72, 84, 30),
            ):
                session.add(
                    KindergartenAgeGroup(
                        season_id=season.id,
                        code=code,
                        min_months=lo,
                        max_months=hi,
                        group_size=size,
                    )
                )
        for code, rank in (("military", 1), ("kairylman", 2), ("disability", 3)):
            session.add(BenefitCategory(season_id=season.id, code=code, name=code, rank=rank))
    else:
        for key, value in dates.items():
            setattr(season, key, value)
    await session.flush()
    await session.refresh(season)
    return season


async def make_kindergarten_application(
    session: AsyncSession,
    *,
    child: Person,
    guardian: Person,
    kindergartens: list[Institution],
    season: IntakeSeason,
    age_group: str = "3-4",
    registered_at: datetime | None = None,
    benefit: str | None = None,
    benefit_status: BenefitStatus | None = None,
    status: QueueStatus = QueueStatus.WAITING,
) -> KindergartenApplication:
    """An application with its preferences (in the given order)."""
    from sqlalchemy import select

    category_id = None
    if benefit is not None:
        category_id = await session.scalar(
            select(BenefitCategory.id).where(
                BenefitCategory.season_id == season.id, BenefitCategory.code == benefit
            )
        )
    application = KindergartenApplication(
        child_id=child.id,
        guardian_id=guardian.id,
        season_id=season.id,
        status=status,
        intake_year=season.year,
        age_group=age_group,
        benefit_category_id=category_id,
        benefit_status=benefit_status
        or (BenefitStatus.VERIFIED if benefit else BenefitStatus.NONE),
        benefit_proof="справка №1" if benefit else None,
        residency=Residency.RESIDENT,
        **({"registered_at": registered_at} if registered_at else {}),
    )
    session.add(application)
    await session.flush()
    for rank, kg in enumerate(kindergartens, start=1):
        session.add(
            KindergartenPreference(application_id=application.id, kindergarten_id=kg.id, rank=rank)
        )
    await session.flush()
    await session.refresh(application)
    return application


async def make_kindergarten_places(
    session: AsyncSession,
    *,
    kindergarten: Institution,
    season: IntakeSeason,
    age_group: str = "3-4",
    free_places: int = 1,
) -> KindergartenPlaces:
    places = KindergartenPlaces(
        season_id=season.id,
        kindergarten_id=kindergarten.id,
        age_group=age_group,
        free_places=free_places,
        declared_by="test",
    )
    session.add(places)
    await session.flush()
    return places


async def make_first_grade_application(
    session: AsyncSession,
    *,
    child: Person,
    guardian: Person,
    school: Institution,
    season: IntakeSeason,
    catchment: bool = True,
    benefit: str | None = None,
    applied_at: datetime | None = None,
    status: FirstGradeStatus = FirstGradeStatus.VERIFIED,
    grade_level: int = 1,
    language: Language = Language.KY,
) -> FirstGradeApplication:
    from sqlalchemy import select

    category_id = None
    if benefit is not None:
        category_id = await session.scalar(
            select(BenefitCategory.id).where(
                BenefitCategory.season_id == season.id, BenefitCategory.code == benefit
            )
        )
    application = FirstGradeApplication(
        season_id=season.id,
        child_id=child.id,
        guardian_id=guardian.id,
        school_id=school.id,
        language=language,
        grade_level=grade_level,
        finished_preschool_programme=False,
        stage=FirstGradeStage.CATCHMENT,
        birth_certificate="I-АН 123456",
        catchment=catchment,
        benefit_category_id=category_id,
        benefit_status=BenefitStatus.VERIFIED if benefit else BenefitStatus.NONE,
        benefit_proof="справка" if benefit else None,
        status=status,
        **({"applied_at": applied_at} if applied_at else {}),
    )
    session.add(application)
    await session.flush()
    return application


async def make_first_grade_quota(
    session: AsyncSession,
    *,
    school: Institution,
    season: IntakeSeason,
    places: int,
    grade_level: int = 1,
    language: Language = Language.KY,
) -> FirstGradeQuota:
    quota = FirstGradeQuota(
        season_id=season.id,
        school_id=school.id,
        grade_level=grade_level,
        language=language,
        classes=max(1, -(-places // season.class_size_max)),
        places=places,
    )
    session.add(quota)
    await session.flush()
    return quota


# --- university admission and study abroad ---------------------------------------------------


async def make_admission_season(
    session: AsyncSession,
    *,
    year: int = 2026,
    intake: str = "main",
    max_choices: int = 5,
    **policy: Any,
) -> Any:
    from models import AdmissionSeason

    values: dict[str, Any] = {
        "name": f"ЖРТ {year} ({intake})",
        "main_score_max": 245,
        "subject_score_max": 150,
        "state_language_score_max": 150,
        "main_threshold": 110,
        "subject_threshold": 60,
        "state_language_threshold": 50,
        "studies_start": date(year, 9, 1),
        **policy,
    }
    season = AdmissionSeason(year=year, intake=intake, max_choices=max_choices, **values)
    session.add(season)
    await session.flush()
    return season


async def make_admission_round(
    session: AsyncSession,
    *,
    season: Any,
    number: int = 1,
    registration_opens: date = date(2026, 6, 20),
    registration_closes: date = date(2026, 7, 5),
    publication_on: date = date(2026, 7, 8),
    confirmation_opens: date = date(2026, 7, 8),
    confirmation_closes: date = date(2026, 7, 12),
) -> Any:
    from models import AdmissionRound

    rnd = AdmissionRound(
        season_id=season.id,
        number=number,
        registration_opens=registration_opens,
        registration_closes=registration_closes,
        publication_on=publication_on,
        confirmation_opens=confirmation_opens,
        confirmation_closes=confirmation_closes,
    )
    session.add(rnd)
    await session.flush()
    return rnd


async def make_programme(
    session: AsyncSession,
    *,
    season: Any,
    university: Institution,
    code: str | None = None,
    name: str = "Прикладная информатика",
    field_of_study: str = "engineering",
    required_subjects: list[str] | None = None,
    places: dict[str, int] | None = None,
    creative_test: bool = False,
    programme_code: str | None = None,
) -> Any:
    from models import AdmissionProgramme, PlaceCategory, ProgrammePlaces

    programme = AdmissionProgramme(
        season_id=season.id,
        institution_id=university.id,
        code=code or f"P{next(_serial)}",
        name=name,
        field_of_study=field_of_study,
        required_subjects=required_subjects if required_subjects is not None else ["math"],
        creative_test=creative_test,
        programme_code=programme_code,
    )
    session.add(programme)
    await session.flush()
    for category, count in (places or {"bishkek": 2, "rural": 2, "contract": 3}).items():
        session.add(
            ProgrammePlaces(
                programme_id=programme.id, category=PlaceCategory(category), places=count
            )
        )
    await session.flush()
    return programme


async def make_test_result(
    session: AsyncSession,
    *,
    person: Person,
    year: int = 2026,
    main_score: int = 150,
    subject_scores: dict[str, int] | None = None,
    state_language_score: int = 90,
    certificate_number: str | None = None,
) -> Any:
    from models import NationalTestResult

    result = NationalTestResult(
        certificate_number=certificate_number or f"ORT{year}{next(_serial):06d}",
        person_id=person.id,
        year=year,
        main_score=main_score,
        state_language_score=state_language_score,
        subject_scores=subject_scores if subject_scores is not None else {"math": 90},
    )
    session.add(result)
    await session.flush()
    return result


async def make_foreign_programme(
    session: AsyncSession,
    *,
    country_code: str = "CN",
    quota: int = 2,
    opens_on: date = date(2026, 3, 1),
    closes_on: date = date(2026, 4, 30),
    min_age: int | None = 18,
    max_age: int | None = 25,
    age_on: date = date(2026, 9, 1),
    stages: list[str] | None = None,
    field_rules: dict[str, str] | None = None,
) -> Any:
    from decimal import Decimal

    from models import ForeignFieldRule, ForeignProgramme

    programme = ForeignProgramme(
        year=opens_on.year,
        country_code=country_code,
        name="Правительственная стипендия, бакалавриат",
        level="bachelor",
        quota=quota,
        opens_on=opens_on,
        closes_on=closes_on,
        min_age=min_age,
        max_age=max_age,
        age_on=age_on,
        stages=stages or ["document_check", "interview", "nomination"],
    )
    session.add(programme)
    await session.flush()
    for field_of_study, minimum in (field_rules or {"engineering": "4.00"}).items():
        session.add(
            ForeignFieldRule(
                programme_id=programme.id,
                field_of_study=field_of_study,
                min_average=Decimal(minimum),
            )
        )
    await session.flush()
    return programme


# --- licensing ----------------------------------------------------------------------------

SHA = "a" * 64


async def make_programme_code(
    session: AsyncSession,
    *,
    code: str | None = None,
    name: str = "Программа",
    level: str = "higher",
    medical: bool = False,
    accreditation_required: bool = True,
) -> Any:
    from models import ProgrammeCode

    entry = ProgrammeCode(
        code=code or f"T-{next(_serial)}",
        name=name,
        level=level,
        medical=medical,
        accreditation_required=accreditation_required,
    )
    session.add(entry)
    await session.flush()
    return entry


async def make_institution_programme(
    session: AsyncSession,
    *,
    institution: Institution,
    code: str = "HE-ECONOMICS",
    name: str = "Экономика",
) -> Any:
    from models import InstitutionProgramme

    programme = InstitutionProgramme(institution_id=institution.id, code=code, name=name)
    session.add(programme)
    await session.flush()
    return programme


async def make_licence_application(
    session: AsyncSession,
    *,
    institution: Institution,
    status: str = "submitted",
    levels: list[str] | None = None,
    submitted_on: date = date(2026, 3, 2),
    due_on: date | None = None,
    applicant_subject: str = "school_admin:test",
    **kwargs: Any,
) -> Any:
    from datetime import timedelta

    from models import LicenceApplication

    application = LicenceApplication(
        institution_id=institution.id,
        applied_as=kwargs.pop("applied_as", "institution"),
        applicant_subject=applicant_subject,
        status=status,
        levels=levels or ["primary", "basic", "secondary"],
        submitted_on=submitted_on,
        due_on=due_on or submitted_on + timedelta(days=20),
        decided_on=kwargs.pop(
            "decided_on", submitted_on if status in ("approved", "refused") else None
        ),
        **kwargs,
    )
    session.add(application)
    await session.flush()
    await make_licence_address(session, application=application)
    return application


async def make_licence_address(
    session: AsyncSession,
    *,
    application: Any,
    address: str = "г. Бишкек, ул. Киевская, 100",
    floor_area: float = 1200,
    planned_students: int = 300,
) -> Any:
    from models import LicenceAddress

    row = LicenceAddress(
        application_id=application.id,
        address=address,
        floor_area=floor_area,
        planned_students=planned_students,
        tenure="owned",
        tenure_from=date(2015, 1, 1),
    )
    session.add(row)
    await session.flush()
    return row


async def make_licence_document(
    session: AsyncSession, *, application: Any, kind: str = "fire_safety_opinion"
) -> Any:
    from models import LicenceDocument

    doc = LicenceDocument(
        application_id=application.id,
        kind=kind,
        file_name=f"{kind}.pdf",
        media_type="application/pdf",
        size_bytes=1024,
        sha256=SHA,
        attached_on=application.submitted_on,
    )
    session.add(doc)
    await session.flush()
    return doc


async def make_licence(
    session: AsyncSession,
    *,
    institution: Institution,
    status: str = "active",
    levels: list[str] | None = None,
    issued_on: date = date(2025, 6, 1),
    valid_until: date | None = None,
    number: str | None = None,
    programme_codes: list[str] | None = None,
) -> Any:
    """A licence with the approved application (dossier) it was issued from."""
    from models import Licence

    levels = levels or ["primary", "basic", "secondary"]
    application = await make_licence_application(
        session, institution=institution, status="approved", levels=levels, submitted_on=issued_on
    )
    licence = Licence(
        number=number or f"KG-LIC-T-{next(_serial):06d}",
        institution_id=institution.id,
        application_id=application.id,
        status=status,
        levels=levels,
        programme_codes=programme_codes or [],
        issued_on=issued_on,
        valid_until=valid_until,
    )
    session.add(licence)
    await session.flush()
    return licence


async def make_accreditation_agency(
    session: AsyncSession,
    *,
    name: str | None = None,
    country_code: str = "KG",
    on_national_register: bool = True,
    on_european_register: bool = False,
) -> Any:
    from models import AccreditationAgency

    agency = AccreditationAgency(
        name=name or f"Агентство аккредитации №{next(_serial)}",
        country_code=country_code,
        on_national_register=on_national_register,
        on_european_register=on_european_register,
    )
    session.add(agency)
    await session.flush()
    return agency


async def make_accreditation(
    session: AsyncSession,
    *,
    institution: Institution,
    agency: Any,
    programme: Any | None = None,
    outcome: str = "accredited",
    valid_from: date = date(2025, 1, 1),
    valid_until: date | None = None,
) -> Any:
    from models import Accreditation

    decided = outcome != "pending"
    acc = Accreditation(
        institution_id=institution.id,
        programme_id=programme.id if programme is not None else None,
        agency_id=agency.id,
        kind="programme" if programme is not None else "institutional",
        step="council_decision" if decided else "application",
        outcome=outcome,
        applicant_subject="school_admin:test",
        decided_on=valid_from if decided else None,
        valid_from=valid_from if outcome == "accredited" else None,
        valid_until=valid_until if outcome == "accredited" else None,
    )
    session.add(acc)
    await session.flush()
    return acc


# --- access ---------------------------------------------------------------------------------


async def make_api_key(
    session: AsyncSession,
    *,
    pepper: bytes,
    allowed_fields: list[str],
    personal_data: bool = False,
    region_ids: list[int] | None = None,
    points_per_hour: int = 5000,
    expires_at: datetime | None = None,
    revoked: bool = False,
    oneroster_writes: list[int] | None = None,
) -> tuple[ApiKey, str]:
    """A partner's key and the whole key string (``bk_<prefix>_<secret>``)."""
    from resolvers.access.keys import hash_secret

    n = next(_serial)
    prefix, secret = f"t{n:07d}", f"secret-of-test-key-{n:08d}"
    now = datetime.now(UTC)
    key = ApiKey(
        prefix=prefix,
        secret_hash=hash_secret(pepper, secret),
        name=f"Partner {n}",
        created_by="tester",
        created_at=now - timedelta(days=30),
        expires_at=expires_at or now + timedelta(days=30),
        revoked_at=now if revoked else None,
        allowed_fields=allowed_fields,
        personal_data=personal_data,
        region_ids=region_ids or [],
        points_per_hour=points_per_hour,
        oneroster_write_institution_ids=oneroster_writes or [],
    )
    session.add(key)
    await session.flush()
    return key, f"bk_{prefix}_{secret}"


# --- school LMS -----------------------------------------------------------------------------


def school_year_of(on: date) -> int:
    """The calendar year the school year holding ``on`` began in."""
    return on.year if on.month >= 8 else on.year - 1


async def make_academic_year(session: AsyncSession, *, start_year: int) -> AcademicYear:
    """A school year (1 September to 31 May) with the usual four terms; its partitions come
    with it. The year of that start, if it exists already."""
    from sqlalchemy import select

    from resolvers.lms import default_terms

    found = await session.scalar(select(AcademicYear).where(AcademicYear.start_year == start_year))
    if found is not None:
        return found
    starts, ends = date(start_year, 9, 1), date(start_year + 1, 5, 31)
    year = AcademicYear(
        start_year=start_year, name=f"{start_year}-{start_year + 1}", starts_on=starts, ends_on=ends
    )
    session.add(year)
    await session.flush()
    for t in default_terms(starts, ends):
        session.add(
            Term(
                academic_year_id=year.id, number=t.number, starts_on=t.starts_on, ends_on=t.ends_on
            )
        )
    await session.flush()
    return year


async def make_class_group(
    session: AsyncSession,
    *,
    school: Institution,
    year: AcademicYear,
    grade: int = 5,
    letter: str = "А",
    curriculum_model: CurriculumModel | None = None,
    capacity: int = 36,
    homeroom_teacher: Person | None = None,
    shift: int = 1,
    language: Language = Language.KY,
) -> ClassGroup:
    """A class with its grade's curriculum (the cohort's model unless given)."""
    from resolvers.lms.classes import add_curriculum

    model = curriculum_model or (
        CurriculumModel.TWELVE_YEAR
        if year.start_year - grade + 1 >= 2025
        else CurriculumModel.ELEVEN_YEAR
    )
    klass = ClassGroup(
        institution_id=school.id,
        academic_year_id=year.id,
        grade=grade,
        letter=letter,
        language=language,
        shift=shift,
        curriculum_model=model,
        homeroom_teacher_id=homeroom_teacher.id if homeroom_teacher else None,
        capacity=capacity,
    )
    session.add(klass)
    await session.flush()
    await add_curriculum(session, klass)
    return klass


async def make_pupil_in_class(
    session: AsyncSession,
    *,
    klass: ClassGroup,
    pupil: Person | None = None,
    since: date | None = None,
    **person: Any,
) -> tuple[Person, Enrollment]:
    """A pupil enrolled at the class's school in its grade, and in the class."""
    from sqlalchemy import select

    year = await session.get(AcademicYear, klass.academic_year_id)
    assert year is not None
    school = await session.get(Institution, klass.institution_id)
    assert school is not None
    pupil = pupil or await make_person(
        session, birth_date=date(year.start_year - 5 - klass.grade, 3, 14), **person
    )
    enrollment = await session.scalar(
        select(Enrollment).where(
            Enrollment.person_id == pupil.id,
            Enrollment.institution_id == school.id,
            Enrollment.exit_date.is_(None),
        )
    ) or await make_enrollment(
        session,
        person=pupil,
        institution=school,
        grade_level=klass.grade,
        entry_date=year.starts_on,
    )
    session.add(
        ClassMembership(
            class_group_id=klass.id,
            enrollment_id=enrollment.id,
            pupil_id=pupil.id,
            institution_id=klass.institution_id,
            academic_year_id=klass.academic_year_id,
            grade=klass.grade,
            since=since or year.starts_on,
        )
    )
    await session.flush()
    return pupil, enrollment


async def subject_id(session: AsyncSession, code: str) -> int:
    from sqlalchemy import select

    found = await session.scalar(select(Subject.id).where(Subject.code == code))
    assert found is not None, code
    return found


async def make_teacher(
    session: AsyncSession, *, school: Institution, first_name: str = "Чолпон", **kwargs: Any
) -> tuple[Person, StaffPosition]:
    teacher = await make_person(
        session, birth_date=date(1985, 4, 2), first_name=first_name, last_name="Бекова", **kwargs
    )
    post = await make_staff_position(session, person=teacher, institution=school)
    return teacher, post


async def make_teaching_assignment(
    session: AsyncSession,
    *,
    klass: ClassGroup,
    subject: str,
    teacher: Person,
    post: StaffPosition,
) -> TeachingAssignment:
    assignment = TeachingAssignment(
        class_group_id=klass.id,
        subject_id=await subject_id(session, subject),
        teacher_id=teacher.id,
        staff_position_id=post.id,
        institution_id=klass.institution_id,
        academic_year_id=klass.academic_year_id,
        since=date(2020, 9, 1),
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def make_bell_schedule(
    session: AsyncSession, *, school: Institution, shift: int = 1, periods: int = 7
) -> list[BellPeriod]:
    """Periods of 45 minutes from 08:00 with 10-minute breaks (shift 2 from 13:30)."""
    start = 8 * 60 if shift == 1 else 13 * 60 + 30
    rows = [
        BellPeriod(
            institution_id=school.id,
            shift=shift,
            number=n,
            starts_minute=start + (n - 1) * 55,
            ends_minute=start + (n - 1) * 55 + 45,
        )
        for n in range(1, periods + 1)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def make_slot(
    session: AsyncSession,
    *,
    klass: ClassGroup,
    subject: str,
    teacher: Person,
    weekday: int,
    period: int,
    room: Room | None = None,
    subgroup: int = 0,
) -> TimetableSlot:
    """A weekly slot for the whole year (the class's teacher must be assigned already)."""
    from sqlalchemy import select

    bell = await session.scalar(
        select(BellPeriod).where(
            BellPeriod.institution_id == klass.institution_id,
            BellPeriod.shift == klass.shift,
            BellPeriod.number == period,
        )
    )
    assert bell is not None
    year = await session.get(AcademicYear, klass.academic_year_id)
    assert year is not None
    slot = TimetableSlot(
        academic_year_id=klass.academic_year_id,
        institution_id=klass.institution_id,
        class_group_id=klass.id,
        subject_id=await subject_id(session, subject),
        teacher_id=teacher.id,
        room_id=room.id if room else None,
        weekday=weekday,
        shift=klass.shift,
        period=period,
        starts_minute=bell.starts_minute,
        ends_minute=bell.ends_minute,
        subgroup=subgroup,
        valid_from=year.starts_on,
    )
    session.add(slot)
    await session.flush()
    return slot


async def make_room(session: AsyncSession, *, school: Institution, name: str = "204") -> Room:
    room = Room(institution_id=school.id, name=name, capacity=30)
    session.add(room)
    await session.flush()
    return room


async def make_lesson(
    session: AsyncSession,
    *,
    slot: TimetableSlot,
    on: date,
    topic: str | None = "Тема",
    curriculum_unit_id: int | None = None,
    status: ClassLessonStatus = ClassLessonStatus.HELD,
) -> ClassLesson:
    lesson = ClassLesson(
        academic_year_id=slot.academic_year_id,
        institution_id=slot.institution_id,
        class_group_id=slot.class_group_id,
        subject_id=slot.subject_id,
        slot_id=slot.id,
        teacher_id=slot.teacher_id,
        on_date=on,
        starts_minute=slot.starts_minute,
        ends_minute=slot.ends_minute,
        subgroup=slot.subgroup,
        topic=topic,
        curriculum_unit_id=curriculum_unit_id,
        status=status,
        recorded_by="factory",
    )
    session.add(lesson)
    await session.flush()
    return lesson


async def make_class_teacher(
    session: AsyncSession,
    *,
    school: Institution,
    teacher: Person,
    class_name: str,
    subject: str = "mathematics",
) -> StaffPosition:
    """A teacher of a class this school year: a staff post, the class (e.g. 5А) with the
    pupils whose open enrollment names it, and a teaching assignment. (Teachers' rights come
    from teaching assignments since the LMS, not from a free-text list on the post.)"""
    from sqlalchemy import select

    grade, letter = int(class_name[:-1]), class_name[-1]
    year = await make_academic_year(session, start_year=school_year_of(today()))
    klass = await make_class_group(session, school=school, year=year, grade=grade, letter=letter)
    enrolled = await session.scalars(
        select(Enrollment).where(
            Enrollment.institution_id == school.id,
            Enrollment.class_group == class_name,
            Enrollment.grade_level == grade,
            Enrollment.exit_date.is_(None),
        )
    )
    for enrollment in enrolled:
        pupil = await session.get(Person, enrollment.person_id)
        await make_pupil_in_class(session, klass=klass, pupil=pupil)
    post = await make_staff_position(session, person=teacher, institution=school)
    await make_teaching_assignment(
        session, klass=klass, subject=subject, teacher=teacher, post=post
    )
    return post
