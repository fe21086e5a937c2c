"""Admission to foreign universities (domain.md, "Admission to foreign universities"):
programmes by country with a quota, an application window, age limits at a reference date,
a minimum school average per field of study and ordered selection stages; applications move
through the stages to nomination, and nominations never exceed the quota (the database
refuses it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ForeignApplication,
    ForeignApplicationStatus,
    ForeignFieldRule,
    ForeignProgramme,
    ForeignStage,
    ForeignStageResult,
    Institution,
    InstitutionKind,
    Person,
    StageDecision,
    StudyLevel,
)
from resolvers import clock
from resolvers.abroad.rules import foreign_application_readable
from resolvers.access import Principal, require
from resolvers.admission.policy import normalise_code
from resolvers.admission.rules import may_act_for_applicant
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint
from resolvers.relay import Ordering

register_constraint(
    "ck_foreign_programme_nominated",
    ErrorCode.QUOTA_FULL,
    "Every place of the programme's quota is taken",
    "applicationId",
)
register_constraint(
    "uq_foreign_application_person",
    ErrorCode.ALREADY_APPLIED,
    "The applicant already applied to this programme",
    "programmeId",
)
register_constraint(
    "ck_foreign_programme_window",
    ErrorCode.INVALID_DATE,
    "The window opens before it closes",
    "opensOn",
)
register_constraint(
    "ck_foreign_programme_age_limits",
    ErrorCode.INVALID_INPUT,
    "The minimum age is at most the maximum age",
    "minAge",
)

PROGRAMME_COLUMNS = tuple(ForeignProgramme.__table__.c)
APPLICATION_COLUMNS = tuple(ForeignApplication.__table__.c)
PROGRAMME_ORDERINGS = {
    "COUNTRY": Ordering(
        (
            (ForeignProgramme.country_code, False),
            (ForeignProgramme.name, False),
            (ForeignProgramme.id, False),
        )
    ),
    "ID": Ordering(((ForeignProgramme.id, False),)),
}
APPLICATION_ORDERINGS = {"ID": Ordering(((ForeignApplication.id, False),))}


@dataclass(frozen=True)
class ForeignProgrammeFilter:
    country_code: str | None = None
    year: int | None = None
    level: StudyLevel | None = None
    open_on: date | None = None


def programmes_query(flt: ForeignProgrammeFilter) -> Select[Any]:
    """Foreign programmes are public."""
    stmt = select(*PROGRAMME_COLUMNS)
    if flt.country_code is not None:
        stmt = stmt.where(ForeignProgramme.country_code == flt.country_code.upper())
    if flt.year is not None:
        stmt = stmt.where(ForeignProgramme.year == flt.year)
    if flt.level is not None:
        stmt = stmt.where(ForeignProgramme.level == flt.level)
    if flt.open_on is not None:
        stmt = stmt.where(
            ForeignProgramme.opens_on <= flt.open_on, ForeignProgramme.closes_on >= flt.open_on
        )
    return stmt


@dataclass(frozen=True)
class ForeignApplicationFilter:
    programme_id: int | None = None
    person_id: int | None = None
    status: ForeignApplicationStatus | None = None


def applications_query(principal: Principal, flt: ForeignApplicationFilter) -> Select[Any]:
    stmt = select(*APPLICATION_COLUMNS).where(foreign_application_readable(principal))
    if flt.programme_id is not None:
        stmt = stmt.where(ForeignApplication.programme_id == flt.programme_id)
    if flt.person_id is not None:
        stmt = stmt.where(ForeignApplication.person_id == flt.person_id)
    if flt.status is not None:
        stmt = stmt.where(ForeignApplication.status == flt.status)
    return stmt


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def create_foreign_programme(
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, Any],
    field_rules: dict[str, Decimal],
) -> ForeignProgramme:
    """Announce a foreign programme with its quota, window, age limits, grade rules and
    stages (ministry only). Stages run in the given order and end with nomination."""
    require(principal.is_ministry, "Only the ministry announces foreign programmes")
    country = str(values["country_code"]).strip().upper()
    if len(country) != 2 or not country.isalpha() or country == "KG":
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A foreign ISO 3166-1 country code", field="countryCode"
        )
    stages: list[ForeignStage] = values["stages"]
    if not stages or stages[-1] != ForeignStage.NOMINATION or len(set(stages)) != len(stages):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Distinct stages ending with NOMINATION", field="stages"
        )
    if values["quota"] < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "The quota is not negative", field="quota")
    name = str(values["name"]).strip()
    if not name or len(name) > 300:
        raise DomainError(ErrorCode.INVALID_INPUT, "A name of 1-300 characters", field="name")
    institution_id = values.get("institution_id")
    if institution_id is not None:
        inst = await session.get(Institution, institution_id)
        if inst is None:
            raise NotFound("The foreign university", field="institutionId")
        if inst.kind != InstitutionKind.FOREIGN_UNIVERSITY or inst.country_code != country:
            raise DomainError(
                ErrorCode.WRONG_INSTITUTION_KIND,
                "The institution is not a university of that country",
                field="institutionId",
            )
    for rule_field, minimum in field_rules.items():
        if not Decimal(0) <= minimum <= Decimal(5):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"The minimum average of {rule_field} lies in 0-5",
                field="fieldRules",
            )
    programme = ForeignProgramme(
        **{**values, "country_code": country, "name": name, "stages": [s.value for s in stages]}
    )
    session.add(programme)
    await session.flush()
    for rule_field, minimum in field_rules.items():
        session.add(
            ForeignFieldRule(
                programme_id=programme.id,
                field_of_study=normalise_code(rule_field, "fieldRules"),
                min_average=minimum,
            )
        )
    await session.flush()
    await emit(
        session,
        topic="abroad.programme_announced",
        aggregate_type="ForeignProgramme",
        aggregate_id=programme.id,
        payload={"country_code": country, "quota": programme.quota},
    )
    return programme


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
        await may_act_for_applicant(session, principal, person_id),
        "Only the applicant, or the guardian of a minor applicant, may apply",
    )
    programme = await session.get(ForeignProgramme, programme_id)
    if programme is None:
        raise NotFound("The foreign programme", field="programmeId")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("The applicant", field="personId")
    today = clock.today()
    if not programme.opens_on <= today <= programme.closes_on:
        raise DomainError(
            ErrorCode.WINDOW_CLOSED,
            f"Applications run from {programme.opens_on} to {programme.closes_on}",
            field="programmeId",
        )
    age = _age_on(person.birth_date, programme.age_on)
    if (programme.min_age is not None and age < programme.min_age) or (
        programme.max_age is not None and age > programme.max_age
    ):
        raise DomainError(
            ErrorCode.AGE_OUT_OF_RANGE,
            f"On {programme.age_on} the applicant is {age}; the programme admits ages "
            f"{programme.min_age or 0} to {programme.max_age or 'any'}",
            field="personId",
        )
    code = normalise_code(field_of_study, "fieldOfStudy")
    if not Decimal(0) <= school_average <= Decimal(5):
        raise DomainError(
            ErrorCode.SCORE_OUT_OF_RANGE,
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
            ErrorCode.NOT_ELIGIBLE, f"The programme does not admit {code}", field="fieldOfStudy"
        )
    if school_average < rule.min_average:
        raise DomainError(
            ErrorCode.SCHOOL_AVERAGE_TOO_LOW,
            f"{code} needs a school average of {rule.min_average}",
            field="schoolAverage",
        )
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
    application = await session.get(ForeignApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field="applicationId")
    if application.status != ForeignApplicationStatus.IN_PROGRESS:
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"The application is {application.status.value}",
            field="applicationId",
        )
    if stage != application.stage:
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"The application is at the {application.stage.value} stage",
            field="stage",
        )
    reason = (reason or "").strip()[:500] or None
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
    topic = "abroad.stage_passed"
    if decision == StageDecision.FAILED:
        application.status = ForeignApplicationStatus.REJECTED
        topic = "abroad.application_rejected"
    elif stage == ForeignStage.NOMINATION:
        # The CHECK (nominated <= quota) holds under any concurrency: the row update locks.
        await session.execute(
            update(ForeignProgramme)
            .where(ForeignProgramme.id == programme.id)
            .values(nominated=ForeignProgramme.nominated + 1)
        )
        application.status = ForeignApplicationStatus.NOMINATED
        topic = "abroad.applicant_nominated"
    else:
        stages = [ForeignStage(s) for s in programme.stages]
        application.stage = stages[stages.index(stage) + 1]
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
