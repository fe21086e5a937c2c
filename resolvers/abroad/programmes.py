"""Announcing a foreign programme (domain.md, "Admission to foreign universities", A1): a
country, a quota, an application window, age limits at a reference date, a minimum school
average per field of study and ordered selection stages ending with nomination."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import ForeignFieldRule, ForeignProgramme, ForeignStage, Institution, InstitutionKind
from resolvers import admission as admission_service
from resolvers.abroad.errors import AbroadCode
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

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

MAX_NAME = 300


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
    country = _country(values["country_code"])
    stages = _stages(values["stages"])
    if values["quota"] < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "The quota is not negative", field="quota")
    name = str(values["name"]).strip()
    if not name or len(name) > MAX_NAME:
        raise DomainError(ErrorCode.INVALID_INPUT, "A name of 1-300 characters", field="name")
    await _check_university(session, values.get("institution_id"), country)
    _check_minimum_averages(field_rules)
    programme = ForeignProgramme(
        **{**values, "country_code": country, "name": name, "stages": [s.value for s in stages]}
    )
    session.add(programme)
    await session.flush()
    for rule_field, minimum in field_rules.items():
        session.add(
            ForeignFieldRule(
                programme_id=programme.id,
                field_of_study=admission_service.normalise_code(rule_field, "fieldRules"),
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


def _country(value: Any) -> str:
    """A foreign ISO 3166-1 alpha-2 code, upper-case."""
    country = str(value).strip().upper()
    if len(country) != 2 or not country.isalpha() or country == "KG":
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A foreign ISO 3166-1 country code", field="countryCode"
        )
    return country


def _stages(stages: list[ForeignStage]) -> list[ForeignStage]:
    if not stages or stages[-1] != ForeignStage.NOMINATION or len(set(stages)) != len(stages):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Distinct stages ending with NOMINATION", field="stages"
        )
    return stages


async def _check_university(
    session: AsyncSession, institution_id: int | None, country: str
) -> None:
    """The named university, if one is, is a foreign university of the programme's country."""
    if institution_id is None:
        return
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The foreign university", field="institutionId")
    if inst.kind != InstitutionKind.FOREIGN_UNIVERSITY or inst.country_code != country:
        raise DomainError(
            AbroadCode.WRONG_INSTITUTION_KIND,
            "The institution is not a university of that country",
            field="institutionId",
        )


def _check_minimum_averages(field_rules: dict[str, Decimal]) -> None:
    for rule_field, minimum in field_rules.items():
        if not Decimal(0) <= minimum <= Decimal(5):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"The minimum average of {rule_field} lies in 0-5",
                field="fieldRules",
            )
