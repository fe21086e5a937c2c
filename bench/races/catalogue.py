"""The races: for each, the state one run arranges, the two requests that race, and the
invariants checked once both answers are in. A race's docstring says what it races and what
must hold; issue 12 names the findings they reproduce."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from bench.races import checks
from bench.races.arrange import ADDRESS, Offer, Town, certificate_number, gid
from bench.races.hub import Answer, Request
from bench.workloads import Upload
from models import Enrollment, Institution, OfferStatus, Person
from resolvers.clock import today

Check = Callable[[asyncpg.Connection, Sequence[Answer]], Awaitable[list[str]]]


@dataclass(frozen=True)
class Setup:
    """One run, arranged: the two racers' requests and the check of what they left."""

    requests: tuple[Request, Request]
    check: Check


@dataclass(frozen=True)
class Race:
    name: str
    finding: str  # what in issue 12 (and domain.md) it reproduces
    arrange: Callable[[Town, int], Awaitable[Setup]]
    # Racers are sent 0 to gap_ms apart, in a random order; a double click is "at once".
    gap_ms: int = 250

    @property
    def summary(self) -> str:
        return " ".join((self.arrange.__doc__ or "").split())


# --- the requests --------------------------------------------------------------------------


def allocate_school(town: Town, school: Institution) -> Request:
    return Request(
        "allocate school",
        "first-grade/AllocateFirstGradePlaces",
        {
            "input": {
                "seasonId": gid("IntakeSeason", town.seasons.first_grade.id),
                "schoolId": gid("Institution", school.id),
            }
        },
        town.tokens.school_admin(school.id),
    )


def allocate_district(town: Town) -> Request:
    return Request(
        "allocate district",
        "first-grade/AllocateFirstGradePlaces",
        {"input": {"seasonId": gid("IntakeSeason", town.seasons.first_grade.id)}},
        town.tokens.district_officer(town.district_id),
    )


def confirm(town: Town, offer: Offer, kindergarten: Institution) -> Request:
    return Request(
        "confirm admission",
        "kindergarten-queue/ConfirmAdmission",
        {"input": {"offerId": gid("KindergartenOffer", offer.offer_id)}},
        town.tokens.school_admin(kindergarten.id),
    )


def accept(town: Town, offer: Offer, mother: Person) -> Request:
    return Request(
        "accept offer",
        "kindergarten-queue/AcceptOffer",
        {"input": {"offerId": gid("KindergartenOffer", offer.offer_id)}},
        town.tokens.guardian(mother.id),
    )


def enroll(town: Town, child: Person, school: Institution) -> Request:
    """The receiving school's admin enrolls the child in grade 1 today, showing the PIN (the
    child is due at school next September: enrolled ahead of the entry-age rule, F4, on a
    commission's decision, since the races are about K7, not the age)."""
    return Request(
        "enroll student",
        "emis/EnrollStudent",
        {
            "input": {
                "personId": gid("Person", child.id),
                "institutionId": gid("Institution", school.id),
                "entryDate": today().isoformat(),
                "gradeLevel": 1,
                "pin": child.pin,
                "ageDecision": "ПМПК №1",
            }
        },
        town.tokens.school_admin(school.id),
    )


def transfer(town: Town, enrollment: Enrollment, child: Person, school: Institution) -> Request:
    return Request(
        "transfer student",
        "emis/TransferStudent",
        {
            "input": {
                "enrollmentId": gid("Enrollment", enrollment.id),
                "toInstitutionId": gid("Institution", school.id),
                "date": today().isoformat(),
                "pin": child.pin,
            }
        },
        town.tokens.school_admin(school.id),
    )


def set_quota(town: Town, school: Institution, places: int) -> Request:
    return Request(
        "set quota",
        "first-grade/SetFirstGradeQuota",
        {
            "input": {
                "seasonId": gid("IntakeSeason", town.seasons.first_grade.id),
                "schoolId": gid("Institution", school.id),
                "gradeLevel": 1,
                "classes": 1,
                "places": places,
            }
        },
        town.tokens.school_admin(school.id),
    )


def withdraw_from_queue(town: Town, offer: Offer, mother: Person) -> Request:
    return Request(
        "withdraw queue application",
        "kindergarten-queue/WithdrawKindergartenApplication",
        {"input": {"applicationId": gid("KindergartenApplication", offer.application_id)}},
        town.tokens.guardian(mother.id),
    )


def withdraw_first_grade(town: Town, application_id: int, mother: Person) -> Request:
    return Request(
        "withdraw first-grade application",
        "first-grade/WithdrawFirstGradeApplication",
        {"input": {"applicationId": gid("FirstGradeApplication", application_id)}},
        town.tokens.guardian(mother.id),
    )


def twice(request: Request) -> tuple[Request, Request]:
    return request, Request(
        request.racer + " again",
        request.operation,
        request.variables,
        request.token,
        request.upload,
    )


# --- 1 and 2: a child in grade 1 and in kindergarten at once (K7) ---------------------------


async def allocate_vs_confirm(town: Town, size: int) -> Setup:
    """allocateFirstGradePlaces for a school vs confirmAdmission of one applicant's accepted
    kindergarten offer (K7: no child in school keeps a kindergarten place, a live queue
    application or offer; no seat lost; quota kept)."""
    school, kindergarten = await town.school(), await town.kindergarten()
    mother = await town.mother()
    others = await town.applicants(mother, school, size)
    child = await town.child(mother)
    await town.first_grade_application(child, mother, school)
    await town.quota(school, places=size + 1)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.ACCEPTED)
    children = [child.id, *(a.child_id for a in others)]
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return (
            await checks.k7(conn, [child.id])
            + await checks.seats(conn, [offer.seats])
            + await checks.quotas(conn, season, [school.id])
            + await checks.admitted_once(conn, children)
        )

    return Setup((allocate_school(town, school), confirm(town, offer, kindergarten)), check)


def _k7_and_seats(child: Person, offer: Offer) -> Check:
    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return (
            await checks.k7(conn, [child.id])
            + await checks.seats(conn, [offer.seats])
            + await checks.admitted_once(conn, [child.id])
        )

    return check


async def enroll_vs_confirm(town: Town, size: int) -> Setup:
    """enrollStudent of a child into a school vs confirmAdmission of their accepted
    kindergarten offer (K7, whichever path opens the school place)."""
    school, kindergarten = await town.school(), await town.kindergarten()
    mother = await town.mother()
    child = await town.child(mother)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.ACCEPTED)
    return Setup(
        (enroll(town, child, school), confirm(town, offer, kindergarten)),
        _k7_and_seats(child, offer),
    )


async def enroll_vs_accept(town: Town, size: int) -> Setup:
    """enrollStudent of a child into a school vs acceptOffer of their open kindergarten offer
    (K7)."""
    school, kindergarten = await town.school(), await town.kindergarten()
    mother = await town.mother()
    child = await town.child(mother)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.OPEN)
    return Setup(
        (enroll(town, child, school), accept(town, offer, mother)), _k7_and_seats(child, offer)
    )


async def transfer_vs_confirm(town: Town, size: int) -> Setup:
    """transferStudent of a grade-1 pupil into another school vs confirmAdmission of the
    pupil's accepted kindergarten offer (K7: a transfer into a school ends the kindergarten
    place and queue entry too). The arranged pupil is in school and holds an accepted offer,
    a state K7 forbids but older data has: the race must not leave it so."""
    school, other = await town.school(), await town.school()
    kindergarten, mother = await town.kindergarten(), await town.mother()
    child = await town.child(mother)
    place = await town.school_place(child, school)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.ACCEPTED)
    return Setup(
        (transfer(town, place, child, other), confirm(town, offer, kindergarten)),
        _k7_and_seats(child, offer),
    )


# --- 3: capacity under racing allocations, quota changes and withdrawals ---------------------


async def school_vs_district(town: Town, size: int) -> Setup:
    """allocateFirstGradePlaces for a school vs for its whole district at once (F5: no
    school over its quota or 36 a class; no child admitted twice; typed refusals, no
    deadlock answered INTERNAL_ERROR)."""
    # The first school has declared its quota; the second gets one from its design capacity
    # (capacity / grades per school) when allocated: both one place short of the applicants.
    grades = town.seasons.first_grade.grades_per_school
    schools = [await town.school(), await town.school(design_capacity=size * grades)]
    mother = await town.mother()
    children: list[int] = []
    for school in schools:
        children += [a.child_id for a in await town.applicants(mother, school, size + 1)]
    await town.quota(schools[0], places=size)
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.quotas(
            conn, season, [s.id for s in schools]
        ) + await checks.admitted_once(conn, children)

    return Setup((allocate_school(town, schools[0]), allocate_district(town)), check)


async def allocate_vs_quota(town: Town, size: int) -> Setup:
    """allocateFirstGradePlaces for a school vs setFirstGradeQuota lowering its places (F5;
    a quota below the admitted is refused with a code, never overfilled)."""
    school, mother = await town.school(), await town.mother()
    children = [a.child_id for a in await town.applicants(mother, school, size + 1)]
    await town.quota(school, places=size + 1)
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.quotas(conn, season, [school.id]) + await checks.admitted_once(
            conn, children
        )

    return Setup((allocate_school(town, school), set_quota(town, school, max(size - 1, 0))), check)


async def withdraw_vs_accept(town: Town, size: int) -> Setup:
    """withdrawKindergartenApplication vs acceptOffer of the same open offer (a withdrawn
    application holds no offer or place; the seat goes back; free places never negative)."""
    kindergarten, mother = await town.kindergarten(), await town.mother()
    child = await town.queue_applicant(mother)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.OPEN)

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.withdrawn_not_admitted(
            conn, queue=[offer.application_id]
        ) + await checks.seats(conn, [offer.seats])

    return Setup((withdraw_from_queue(town, offer, mother), accept(town, offer, mother)), check)


async def withdraw_vs_confirm(town: Town, size: int) -> Setup:
    """withdrawKindergartenApplication vs confirmAdmission of the same accepted offer (a
    withdrawn application holds no place; the seat goes back; K3 group size kept)."""
    kindergarten, mother = await town.kindergarten(), await town.mother()
    child = await town.queue_applicant(mother)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.ACCEPTED)

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return (
            await checks.withdrawn_not_admitted(conn, queue=[offer.application_id])
            + await checks.seats(conn, [offer.seats])
            + await checks.admitted_once(conn, [child.id])
        )

    return Setup(
        (withdraw_from_queue(town, offer, mother), confirm(town, offer, kindergarten)), check
    )


async def withdraw_vs_allocate(town: Town, size: int) -> Setup:
    """withdrawFirstGradeApplication vs allocateFirstGradePlaces of its school (a withdrawn
    application is never admitted; F5 quota kept)."""
    school, mother = await town.school(), await town.mother()
    others = await town.applicants(mother, school, size)
    child = await town.child(mother)
    application = await town.first_grade_application(child, mother, school)
    await town.quota(school, places=size + 1)  # a place for everyone: withdrawn or admitted
    children = [child.id, *(a.child_id for a in others)]
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return (
            await checks.withdrawn_not_admitted(conn, first_grade=[application.id])
            + await checks.quotas(conn, season, [school.id])
            + await checks.admitted_once(conn, children)
        )

    return Setup(
        (withdraw_first_grade(town, application.id, mother), allocate_school(town, school)),
        check,
    )


# --- 4: one child enrolled elsewhere during an allocation -------------------------------------


async def enroll_during_allocation(town: Town, size: int) -> Setup:
    """allocateFirstGradePlaces for a school vs enrollStudent of one of its applicants into
    another school (issue 12, finding 4: everyone else is still allocated, and that child's
    application ends with a typed reason, not a failed allocation)."""
    school, elsewhere, mother = await town.school(), await town.school(), await town.mother()
    others = await town.applicants(mother, school, size)
    child = await town.child(mother)
    application = await town.first_grade_application(child, mother, school)
    await town.quota(school, places=size + 1)
    children = [child.id, *(a.child_id for a in others)]
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return (
            await checks.others_allocated(conn, [a.id for a in others])
            + await checks.reason_given(conn, application.id)
            + await checks.quotas(conn, season, [school.id])
            + await checks.admitted_once(conn, children)
        )

    return Setup((allocate_school(town, school), enroll(town, child, elsewhere)), check)


# --- 5: one file imported twice at once ---------------------------------------------------------


async def import_twice(town: Town, size: int) -> Setup:
    """importTestResults of the same file twice at once (issue 12, finding 5: loaded once,
    both answers typed, at most one of them reporting rows loaded)."""
    year = town.seasons.admission.year
    rows = []
    for _ in range(max(size, 1)):
        person = await town.person(born=date(2008, 5, 20), first_name="Бекжан")
        rows.append((certificate_number(), person.pin))
    text = "certificate_number,year,pin,main_score,state_language_score,subject_math\n" + "".join(
        f"{number},{year},{pin},150,90,80\n" for number, pin in rows
    )
    content = text.encode()
    upload = Upload("variables.input.file", f"ort-{town.tag}.csv", content)
    request = Request(
        "import file",
        "university-admission/ImportTestResults",
        {"input": {"file": None}},
        town.tokens.ministry(),
        upload,
    )
    sha256 = hashlib.sha256(content).hexdigest()

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        loaded = [
            a
            for a in answers
            if (a.payload("importTestResults").get("report") or {}).get("rowsLoaded")
        ]
        broken = ["both answers report rows loaded"] if len(loaded) > 1 else []
        return broken + await checks.one_import(conn, sha256, [n for n, _ in rows])

    return Setup(twice(request), check)


# --- 6: double clicks ---------------------------------------------------------------------------


async def double_apply_queue(town: Town, size: int) -> Setup:
    """applyToKindergartenQueue sent twice at once (one active application per child)."""
    kindergarten, mother = await town.kindergarten(), await town.mother()
    child = await town.queue_applicant(mother)
    request = Request(
        "apply to queue",
        "kindergarten-queue/ApplyToKindergartenQueue",
        {
            "input": {
                "childId": gid("Person", child.id),
                "kindergartenIds": [gid("Institution", kindergarten.id)],
            }
        },
        town.tokens.guardian(mother.id),
    )

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.one_queue_application(conn, child.id)

    return Setup(twice(request), check)


async def double_accept_offer(town: Town, size: int) -> Setup:
    """acceptOffer sent twice at once (accepted once, the seat counted once)."""
    kindergarten, mother = await town.kindergarten(), await town.mother()
    child = await town.queue_applicant(mother)
    offer = await town.offer(child, mother, kindergarten, OfferStatus.OPEN)

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.one_acceptance(conn, offer.application_id) + await checks.seats(
            conn, [offer.seats]
        )

    return Setup(twice(accept(town, offer, mother)), check)


async def double_apply_first_grade(town: Town, size: int) -> Setup:
    """applyForFirstGrade sent twice at once (one live application per child and season)."""
    school, mother = await town.school(), await town.mother()
    child = await town.child(mother)
    request = Request(
        "apply for first grade",
        "first-grade/ApplyForFirstGrade",
        {
            "input": {
                "childId": gid("Person", child.id),
                "pin": child.pin,
                "birthCertificate": "I-АН № 654321",
                "schoolId": gid("Institution", school.id),
                "language": "KY",
                # Stage 2 asks where the child lives; stage 1 reads the registered address.
                "addressDistrictId": gid("District", town.district_id),
                "address": ADDRESS,
            }
        },
        town.tokens.guardian(mother.id),
    )
    season = town.seasons.first_grade.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.one_first_grade_application(conn, child.id, season)

    return Setup(twice(request), check)


async def double_apply_programmes(town: Town, size: int) -> Setup:
    """applyToProgrammes sent twice at once (one active list: each programme and preference
    once)."""
    person, certificate = await town.applicant_with_certificate()
    programmes = town.seasons.programmes
    request = Request(
        "apply to programmes",
        "university-admission/ApplyToProgrammes",
        {
            "input": {
                "seasonId": gid("AdmissionSeason", town.seasons.admission.id),
                "personId": gid("Person", person.id),
                "certificateNumber": certificate.certificate_number,
                "choices": [
                    {"programmeId": gid("Programme", p.id), "funding": "CONTRACT"}
                    for p in programmes
                ],
            }
        },
        town.tokens.pupil(person.id),
    )
    season = town.seasons.admission.id

    async def check(conn: asyncpg.Connection, answers: Sequence[Answer]) -> list[str]:
        return await checks.one_programme_list(conn, person.id, season, len(programmes))

    return Setup(twice(request), check)


DOUBLE_CLICK_MS = 50

RACES: tuple[Race, ...] = (
    Race("allocate-vs-confirm", "#1, K7", allocate_vs_confirm),
    Race("enroll-vs-confirm", "#2, K7", enroll_vs_confirm),
    Race("enroll-vs-accept", "#2, K7", enroll_vs_accept),
    Race("transfer-vs-confirm", "#2, K7", transfer_vs_confirm),
    Race("school-vs-district", "#3, F5", school_vs_district),
    Race("allocate-vs-quota", "#3, F5", allocate_vs_quota),
    Race("withdraw-vs-accept", "#3, K3", withdraw_vs_accept),
    Race("withdraw-vs-confirm", "#3, K3", withdraw_vs_confirm),
    Race("withdraw-vs-allocate", "#3, F5", withdraw_vs_allocate),
    Race("enroll-during-allocation", "#4", enroll_during_allocation),
    Race("import-twice", "#5", import_twice, gap_ms=DOUBLE_CLICK_MS),
    Race("double-apply-queue", "double click", double_apply_queue, gap_ms=DOUBLE_CLICK_MS),
    Race("double-accept-offer", "double click", double_accept_offer, gap_ms=DOUBLE_CLICK_MS),
    Race(
        "double-apply-first-grade",
        "double click",
        double_apply_first_grade,
        gap_ms=DOUBLE_CLICK_MS,
    ),
    Race(
        "double-apply-programmes",
        "double click",
        double_apply_programmes,
        gap_ms=DOUBLE_CLICK_MS,
    ),
)
