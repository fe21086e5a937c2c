"""Year-end promotion (issue 15): closing a school's academic year moves every pupil with an
open enrollment there up a grade, keeps repeaters where the council decided so, and ends the
enrollments of those who finished their last grade.

The choice: a new enrollment per year (Ed-Fi's student-school association per school year),
not a graded period inside one enrollment. The year's enrollment ends on the day after the
year (exit reason ``promoted`` or ``retained``) and the next one begins that day in the next
grade (or the same), linked to it by ``previous_enrollment_id``. Every row then says one
grade for one period, the registry's lists by grade are right from that day, a class
membership points at the enrollment of its own year (the foreign key on the grade holds), and
the history of grades is the chain of enrollments.

Set-based: a school's closure is a fixed number of statements whatever its size (end the
year's enrollments with their reasons, open the next ones, carry the classes on with their
subjects and pupils, the pupils' halves of the subjects taught in halves with them, name the
registry's classes), each an UPDATE or INSERT ... SELECT; no pupil passes through Python.

Closing is idempotent: a school's closure row is unique per year, and a done closure does
nothing again. Each school closes in one transaction; a country's closure is the ministry's
request (every school gets a pending closure row) worked off school by school by
:func:`run_pending_closures` (``bilim lms close-year``), several workers at once
(``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    AcademicYearClosure,
    ClosureStatus,
    Enrollment,
    Institution,
    InstitutionKind,
    Outcome,
    PromotionDecision,
    PromotionOutcome,
    Sector,
    database,
)
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit, record_audit
from resolvers.institutions.rules import institution_in_scope
from resolvers.lms.classes import school_of
from resolvers.lms.errors import LmsCode
from resolvers.lms.rules import may_manage_school
from resolvers.lms.years import Policy, academic_year, next_year, school_policy

log = logging.getLogger("bilim.lms")

JOB_PRINCIPAL = Principal(subject="job:lms-year-end", role=Role.MINISTRY)


@dataclass(frozen=True)
class ClosureRequest:
    """What a closing request did: schools closed now, and schools left to the job."""

    year: AcademicYear
    closed: list[AcademicYearClosure]
    pending: int

    @property
    def audit_target(self) -> AcademicYear:
        return self.year


async def _years(session: AsyncSession, year_id: int) -> tuple[AcademicYear, AcademicYear]:
    year = await academic_year(session, year_id, field="academicYearId")
    if today() < year.ends_on:
        raise DomainError(
            LmsCode.YEAR_NOT_OVER,
            f"The {year.name} year ends on {year.ends_on.isoformat()}",
            field="academicYearId",
        )
    following = await next_year(session, year)
    if following is None:
        raise DomainError(
            LmsCode.NEXT_YEAR_MISSING,
            "Create the next academic year first: pupils move into its classes",
            field="academicYearId",
        )
    return year, following


async def close_academic_year(
    session: AsyncSession, principal: Principal, *, year_id: int, school_id: int | None
) -> ClosureRequest:
    """Close a school year (issue 15): one school now, in this transaction; or, for the
    ministry and officers, every school in their scope, queued for the job (one transaction per
    school). Closing again does nothing more."""
    year, following = await _years(session, year_id)
    if school_id is not None:
        inst = await school_of(session, principal, school_id, field="schoolId")
        closure = await close_school_year(session, year, following, inst, principal.subject)
        return ClosureRequest(year, [closure], 0)
    require(
        principal.role in (Role.MINISTRY, Role.REGION_OFFICER, Role.DISTRICT_OFFICER),
        "Close your own school's year (give schoolId)",
    )
    schools = select(
        literal(year.id),
        Institution.id,
        literal(ClosureStatus.PENDING.value),
        literal(principal.subject),
    ).where(Institution.kind == InstitutionKind.SCHOOL, institution_in_scope(principal))
    await session.execute(
        pg_insert(AcademicYearClosure)
        .from_select(["academic_year_id", "institution_id", "status", "requested_by"], schools)
        .on_conflict_do_nothing()
    )
    pending = await session.scalar(
        select(func.count()).where(
            AcademicYearClosure.academic_year_id == year.id,
            AcademicYearClosure.status == ClosureStatus.PENDING,
        )
    )
    return ClosureRequest(year, [], int(pending or 0))


async def decide_promotion(
    session: AsyncSession,
    principal: Principal,
    *,
    year_id: int,
    enrollment_id: int,
    outcome: PromotionOutcome,
    reason: str,
) -> PromotionDecision:
    """Record the council's decision for a pupil's year end: repeat the grade, leave the
    school having completed the level, or (undoing either) be promoted."""
    year = await academic_year(session, year_id, field="academicYearId")
    enrollment = await session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.sector != Sector.SCHOOL:
        raise NotFound("The enrollment", field="enrollmentId")
    inst = await session.get(Institution, enrollment.institution_id)
    assert inst is not None
    if not may_manage_school(principal, inst):
        raise NotFound("The enrollment", field="enrollmentId")
    if enrollment.exit_date is not None or enrollment.entry_date > year.ends_on:
        raise DomainError(
            LmsCode.NOT_ENROLLED, "The enrollment is not open in this year", field="enrollmentId"
        )
    reason = reason.strip()
    if not 1 <= len(reason) <= 300:
        raise DomainError(LmsCode.INVALID_TRANSITION, "Say why (1-300 characters)", field="reason")
    stmt = pg_insert(PromotionDecision).values(
        academic_year_id=year.id,
        enrollment_id=enrollment.id,
        institution_id=inst.id,
        outcome=outcome,
        reason=reason,
        decided_by=principal.subject,
    )
    decision: PromotionDecision = (
        await session.scalars(
            stmt.on_conflict_do_update(
                constraint="uq_promotion_decision_academic_year_id",
                set_={
                    "outcome": outcome,
                    "reason": reason,
                    "decided_by": principal.subject,
                    "decided_at": func.now(),
                },
            ).returning(PromotionDecision)
        )
    ).one()
    return decision


# --- one school, one transaction ----------------------------------------------------------


async def _claim(
    session: AsyncSession, year: AcademicYear, inst_id: int, actor: str
) -> AcademicYearClosure:
    await session.execute(
        pg_insert(AcademicYearClosure)
        .values(
            academic_year_id=year.id,
            institution_id=inst_id,
            status=ClosureStatus.PENDING,
            requested_by=actor,
        )
        .on_conflict_do_nothing()
    )
    closure = await session.scalar(
        select(AcademicYearClosure)
        .where(
            AcademicYearClosure.academic_year_id == year.id,
            AcademicYearClosure.institution_id == inst_id,
        )
        .with_for_update()
    )
    assert closure is not None
    return closure


def _reason_sql(policy: Policy, start_year: int) -> Any:
    """The exit reason of each open enrollment at year end, as SQL over the enrollment and
    its decision: the council's decision, else graduation from the last grade (leaving a basic
    school after 9th grade), else promotion."""
    last = (
        "9"
        if policy.basic_only
        else f"CASE WHEN {start_year} - e.grade_level + 1 >= {policy.twelve_year_from}"
        " THEN 12 ELSE 11 END"
    )
    left = "'completed_level'" if policy.basic_only else "'graduated'"
    return text(
        "CASE WHEN d.outcome = 'retain' THEN 'retained'"
        " WHEN d.outcome = 'leave' THEN 'completed_level'"
        f" WHEN e.grade_level >= {last} THEN {left}"
        " ELSE 'promoted' END"
    )


async def _end_enrollments(
    session: AsyncSession, year: AcademicYear, inst_id: int, policy: Policy, on: date
) -> dict[str, int]:
    """End the year's open enrollments at the school on ``on`` (one statement); how many
    left with each exit reason."""
    reason = _reason_sql(policy, year.start_year).compile(compile_kwargs={"literal_binds": True})
    rows = await session.execute(
        text(
            "WITH ended AS (UPDATE enrollment AS x SET exit_date = :on, exit_reason = r.reason,"
            " updated_at = now()"
            " FROM (SELECT e.id, " + str(reason) + " AS reason FROM enrollment e"
            " LEFT JOIN promotion_decision d ON d.enrollment_id = e.id"
            "  AND d.academic_year_id = :year"
            " WHERE e.institution_id = :school AND e.sector = 'school'"
            "  AND e.exit_date IS NULL AND e.entry_date < :on) AS r"
            " WHERE x.id = r.id RETURNING r.reason)"
            " SELECT reason, count(*) AS n FROM ended GROUP BY reason"
        ),
        {"on": on, "year": year.id, "school": inst_id},
    )
    return {row.reason: int(row.n) for row in rows}


async def _continue_enrollments(session: AsyncSession, inst_id: int, on: date) -> None:
    """Open the next year's enrollments of the promoted and the retained (one INSERT ...
    SELECT over the enrollments that ended on ``on``), each linked to the one it continues."""
    await session.execute(
        text(
            "INSERT INTO enrollment (person_id, institution_id, sector, entry_date, grade_level,"
            " programme, previous_enrollment_id)"
            " SELECT e.person_id, e.institution_id, 'school', :on,"
            "  e.grade_level + CASE WHEN e.exit_reason = 'promoted' THEN 1 ELSE 0 END,"
            "  e.programme, e.id FROM enrollment e"
            " WHERE e.institution_id = :school AND e.sector = 'school' AND e.exit_date = :on"
            "  AND e.exit_reason IN ('promoted', 'retained')"
            # ended by this transaction (now() is its start): by the index on the school
            "  AND e.updated_at = now()"
        ),
        {"on": on, "school": inst_id},
    )


# The year's classes that have promoted pupils, as next year's (5А becomes 6А): one statement.
# A class already made for next year under the same name is kept as it is.
NEXT_CLASSES = text(
    "INSERT INTO class_group (institution_id, academic_year_id, grade, letter, language, shift,"
    " curriculum_model, homeroom_teacher_id, capacity, previous_id)"
    " SELECT c.institution_id, :following, c.grade + 1, c.letter, c.language, c.shift,"
    "  c.curriculum_model, c.homeroom_teacher_id, greatest(c.capacity, :size), c.id"
    " FROM class_group c"
    " WHERE c.institution_id = :school AND c.academic_year_id = :year"
    "  AND EXISTS (SELECT FROM class_membership m JOIN enrollment n"
    "   ON n.person_id = m.pupil_id AND n.institution_id = c.institution_id"
    "   AND n.entry_date = :on AND n.sector = 'school' AND n.grade_level = c.grade + 1"
    "   WHERE m.class_group_id = c.id AND m.until = :on)"
    " ORDER BY c.grade, c.letter"
    " ON CONFLICT DO NOTHING RETURNING id"
)

# The promoted pupils into their class's continuation, through their new enrollments (found
# by pupil, school and day: the index on the person, not a scan for the previous enrollment),
# and in the same statement their halves (issue 16): each pupil's half of a subject in the
# class they leave goes with them where the new class learns the subject too (its
# ``class_subject``, which the half's foreign key names). ``going`` pairs each pupil's new
# class and enrollment with the membership they leave (one a pupil: one class at a time);
# ``moved`` is the new memberships, whose ids the halves name.
NEXT_MEMBERSHIPS = text(
    "WITH going AS MATERIALIZED (SELECT k.id AS class_group_id, n.id AS enrollment_id,"
    "  m.pupil_id, c.grade + 1 AS grade, m.id AS left_membership"
    " FROM class_membership m"
    " JOIN class_group c ON c.id = m.class_group_id"
    " JOIN enrollment n ON n.person_id = m.pupil_id AND n.institution_id = :school"
    "  AND n.entry_date = :on AND n.sector = 'school' AND n.grade_level = c.grade + 1"
    " JOIN class_group k ON k.institution_id = :school AND k.academic_year_id = :following"
    "  AND k.grade = c.grade + 1 AND k.letter = c.letter"
    " WHERE c.institution_id = :school AND c.academic_year_id = :year AND m.until = :on),"
    " moved AS (INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id,"
    "  institution_id, academic_year_id, grade, since)"
    " SELECT class_group_id, enrollment_id, pupil_id, :school, :following, grade, :on"
    " FROM going ORDER BY class_group_id, pupil_id"
    " RETURNING id, class_group_id, pupil_id)"
    " INSERT INTO class_membership_half (membership_id, subject_id, class_group_id, subgroup)"
    " SELECT moved.id, h.subject_id, moved.class_group_id, h.subgroup"
    " FROM moved JOIN going g ON g.pupil_id = moved.pupil_id"
    " JOIN class_membership_half h ON h.membership_id = g.left_membership"
    " JOIN class_subject s ON s.class_group_id = moved.class_group_id"
    "  AND s.subject_id = h.subject_id"
)


async def _continue_classes(
    session: AsyncSession,
    year: AcademicYear,
    following: AcademicYear,
    inst_id: int,
    policy: Policy,
    on: date,
) -> int:
    """The year's classes go on as next year's (5А becomes 6А with its promoted pupils and its
    home-room teacher, and the curriculum of its new grade; each pupil keeps their half of a
    subject the new class learns too); graduating classes end. Set-based: one statement each
    for the classes, their subjects, the memberships with their halves and the registry's
    class names, whatever the school's size. Returns how many classes went on."""
    params = {
        "school": inst_id,
        "year": year.id,
        "following": following.id,
        "on": on,
        "size": policy.max_class_size,
    }
    went_on = await session.scalar(
        text(
            "SELECT count(*) FROM class_group c WHERE c.institution_id = :school"
            " AND c.academic_year_id = :year AND EXISTS (SELECT FROM class_membership m"
            " JOIN enrollment n ON n.person_id = m.pupil_id AND n.institution_id = :school"
            " AND n.entry_date = :on AND n.sector = 'school' AND n.grade_level = c.grade + 1"
            " WHERE m.class_group_id = c.id AND m.until = :on)"
        ),
        params,
    )
    if not went_on:
        return 0
    made = [row.id for row in await session.execute(NEXT_CLASSES, params)]
    if made:
        await session.execute(
            text(
                "INSERT INTO class_subject (class_group_id, subject_id, weekly_hours)"
                " SELECT k.id, p.subject_id, p.weekly_hours FROM class_group k"
                " JOIN curriculum_plan p ON p.curriculum_model = k.curriculum_model"
                "  AND p.grade = k.grade WHERE k.id = ANY(:made)"
            ).bindparams(bindparam("made", type_=ARRAY(Integer))),
            {"made": made},
        )
    await session.execute(NEXT_MEMBERSHIPS, params)
    # The registry's free-text class of the new enrollments names their class.
    await session.execute(
        text(
            "UPDATE enrollment AS e SET class_group = c.grade::text || c.letter"
            " FROM class_membership m JOIN class_group c ON c.id = m.class_group_id"
            " WHERE m.enrollment_id = e.id AND m.academic_year_id = :following"
            " AND m.institution_id = :school AND m.since = :on"
        ),
        params,
    )
    return int(went_on)


async def close_school_year(
    session: AsyncSession,
    year: AcademicYear,
    following: AcademicYear,
    inst: Institution,
    actor: str,
) -> AcademicYearClosure:
    """Close one school's year in the caller's transaction: end the year's enrollments,
    continue the promoted and retained into next year, carry the classes on (issue 15)."""
    closure = await _claim(session, year, inst.id, actor)
    if closure.status == ClosureStatus.DONE:
        return closure
    policy = await school_policy(session, inst.id)
    on = year.ends_on + timedelta(days=1)
    reasons = await _end_enrollments(session, year, inst.id, policy, on)
    await _continue_enrollments(session, inst.id, on)
    classes = await _continue_classes(session, year, following, inst.id, policy, on)
    closure.status = ClosureStatus.DONE
    closure.done_at = datetime.now(UTC)
    closure.promoted = reasons.get("promoted", 0)
    closure.retained = reasons.get("retained", 0)
    closure.graduated = reasons.get("graduated", 0)
    closure.left_school = reasons.get("completed_level", 0)
    closure.classes_continued = classes
    await session.flush()
    await emit(
        session,
        topic="lms.school_year_closed",
        aggregate_type="AcademicYearClosure",
        aggregate_id=closure.id,
        payload={"institution_id": inst.id, "academic_year_id": year.id},
    )
    return closure


async def run_pending_closures(url: str, *, year_id: int | None = None) -> int:
    """Close every school whose closure is pending, each in its own transaction (one audit row
    each); several processes may run this at once. Returns how many schools it closed."""
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    done = 0
    try:
        sessions = database.session_factory(engine)
        while True:
            async with sessions() as session:
                closure = await session.scalar(
                    select(AcademicYearClosure)
                    .where(
                        AcademicYearClosure.status == ClosureStatus.PENDING,
                        *(
                            [AcademicYearClosure.academic_year_id == year_id]
                            if year_id is not None
                            else []
                        ),
                    )
                    .order_by(AcademicYearClosure.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if closure is None:
                    return done
                year = await session.get(AcademicYear, closure.academic_year_id)
                inst = await session.get(Institution, closure.institution_id)
                assert year is not None
                assert inst is not None
                following = await next_year(session, year)
                if following is None:
                    raise RuntimeError("Create the next academic year first")
                await close_school_year(session, year, following, inst, JOB_PRINCIPAL.subject)
                await record_audit(
                    session,
                    principal=JOB_PRINCIPAL,
                    request_id=None,
                    operation="lms.close_school_year",
                    outcome=Outcome.SUCCEEDED,
                    target_type="AcademicYearClosure",
                    target_id=closure.id,
                )
                await session.commit()
                done += 1
    finally:
        await engine.dispose()
