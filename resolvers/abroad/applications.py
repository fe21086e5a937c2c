"""Applications to foreign programmes (domain.md, "Admission to foreign universities", A1):
submitted in the window by an eligible applicant, moved through the programme's stages by the
ministry, and nominated within the quota (the database refuses more)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ForeignApplication,
    ForeignApplicationStatus,
    ForeignFieldRule,
    ForeignProgramme,
    ForeignStage,
    ForeignStageResult,
    Person,
    StageDecision,
)
from resolvers import admission as admission_service
from resolvers import clock
from resolvers.abroad.errors import AbroadCode
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "ck_foreign_programme_nominated",
    AbroadCode.QUOTA_FULL,
    "Every place of the programme's quota is taken",
    "applicationId",
)
register_constraint(
    "uq_foreign_application_person",
    AbroadCode.ALREADY_APPLIED,
    "The applicant already applied to this programme",
    "programmeId",
)

MAX_REASON = 500


async def apply_to_foreign_programme(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_id: int,
    person_id: int,
    field_of_study: str,
    school_average: Decimal,
) -> ForeignApplication:
    """Apply to a foreign programme (the applicant, or the guardian of a minor).

    Rules: within the application window; the applicant's age at the programme's reference
    date within its limits; the field of study one the programme admits, with a school average
    at or above its minimum; one application per programme.
    """
    require(
        await admission_service.may_act_for_applicant(session, principal, person_id),
        "Only the applicant, or the guardian of a minor applicant, may apply",
    )
    programme = await session.get(ForeignProgramme, programme_id)
    if programme is None:
        raise NotFound("The foreign programme", field="programmeId")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("The applicant", field="personId")
    _require_window(programme)
    _require_age(programme, person)
    code = admission_service.normalise_code(field_of_study, "fieldOfStudy")
    await _require_school_average(session, programme, code, school_average)
    application = ForeignApplication(
        programme_id=programme.id,
        person_id=person.id,
        field_of_study=code,
        school_average=school_average,
        stage=ForeignStage(programme.stages[0]),
    )
    session.add(application)
    await session.flush()
    await session.refresh(application)
    await emit(
        session,
        topic="abroad.application_submitted",
        aggregate_type="ForeignApplication",
        aggregate_id=application.id,
        payload={"programme_id": programme.id},
    )
    return application


def _require_window(programme: ForeignProgramme) -> None:
    if not programme.opens_on <= clock.today() <= programme.closes_on:
        raise DomainError(
            AbroadCode.WINDOW_CLOSED,
            f"Applications run from {programme.opens_on} to {programme.closes_on}",
            field="programmeId",
        )


def _require_age(programme: ForeignProgramme, person: Person) -> None:
    age = admission_service.age_on(person.birth_date, programme.age_on)
    if (programme.min_age is not None and age < programme.min_age) or (
        programme.max_age is not None and age > programme.max_age
    ):
        raise DomainError(
            AbroadCode.AGE_OUT_OF_RANGE,
            f"On {programme.age_on} the applicant is {age}; the programme admits ages "
            f"{programme.min_age or 0} to {programme.max_age or 'any'}",
            field="personId",
        )


async def _require_school_average(
    session: AsyncSession, programme: ForeignProgramme, code: str, school_average: Decimal
) -> None:
    """The programme admits the field, and the average reaches the field's minimum."""
    if not Decimal(0) <= school_average <= Decimal(5):
        raise DomainError(
            AbroadCode.SCORE_OUT_OF_RANGE,
            "A school average lies between 0 and 5",
            field="schoolAverage",
        )
    rule = await session.scalar(
        select(ForeignFieldRule).where(
            ForeignFieldRule.programme_id == programme.id, ForeignFieldRule.field_of_study == code
        )
    )
    if rule is None:
        raise DomainError(
            AbroadCode.NOT_ELIGIBLE, f"The programme does not admit {code}", field="fieldOfStudy"
        )
    if school_average < rule.min_average:
        raise DomainError(
            AbroadCode.SCHOOL_AVERAGE_TOO_LOW,
            f"{code} needs a school average of {rule.min_average}",
            field="schoolAverage",
        )


async def advance_foreign_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    stage: ForeignStage,
    decision: StageDecision,
    score: Decimal | None,
    reason: str | None,
) -> ForeignApplication:
    """Record a stage's decision on an application (ministry only).

    Rules: the stage named is the application's current stage (no skipping, no repeating);
    a failure needs a reason and ends the application; passing moves it to the next stage;
    passing nomination nominates the applicant and takes a place of the quota, which the
    database refuses beyond the quota.
    """
    require(principal.is_ministry, "Only the ministry decides on foreign applications")
    application = await _application_at(session, application_id, stage)
    reason = (reason or "").strip()[:MAX_REASON] or None
    if decision == StageDecision.FAILED and reason is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "Say why the stage was failed", field="reason")
    programme = await session.get(ForeignProgramme, application.programme_id)
    assert programme is not None
    session.add(
        ForeignStageResult(
            application_id=application.id,
            stage=stage,
            score=score,
            decision=decision,
            reason=reason,
            decided_by=principal.subject[:120],
        )
    )
    topic = await _move_on(session, application, programme, stage, decision)
    await session.flush()
    await session.refresh(application)
    await emit(
        session,
        topic=topic,
        aggregate_type="ForeignApplication",
        aggregate_id=application.id,
        payload={"programme_id": programme.id, "stage": stage.value},
    )
    return application


async def _application_at(
    session: AsyncSession, application_id: int, stage: ForeignStage
) -> ForeignApplication:
    """The application, locked, if it is in progress at ``stage``."""
    application = await session.get(ForeignApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field="applicationId")
    if application.status != ForeignApplicationStatus.IN_PROGRESS:
        raise DomainError(
            AbroadCode.WRONG_STAGE,
            f"The application is {application.status.value}",
            field="applicationId",
        )
    if stage != application.stage:
        raise DomainError(
            AbroadCode.WRONG_STAGE,
            f"The application is at the {application.stage.value} stage",
            field="stage",
        )
    return application


async def _move_on(
    session: AsyncSession,
    application: ForeignApplication,
    programme: ForeignProgramme,
    stage: ForeignStage,
    decision: StageDecision,
) -> str:
    """Reject, nominate or move the application to the next stage; the event's topic."""
    if decision == StageDecision.FAILED:
        application.status = ForeignApplicationStatus.REJECTED
        return "abroad.application_rejected"
    if stage == ForeignStage.NOMINATION:
        # The CHECK (nominated <= quota) holds under any concurrency: the row update locks.
        await session.execute(
            update(ForeignProgramme)
            .where(ForeignProgramme.id == programme.id)
            .values(nominated=ForeignProgramme.nominated + 1)
        )
        application.status = ForeignApplicationStatus.NOMINATED
        return "abroad.applicant_nominated"
    stages = [ForeignStage(s) for s in programme.stages]
    application.stage = stages[stages.index(stage) + 1]
    return "abroad.stage_passed"
