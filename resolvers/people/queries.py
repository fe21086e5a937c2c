"""The person list: who the caller may read, narrowed by a filter, and its orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, any_, exists, func, or_, select

from models import Enrollment, Institution, Person, Sex, StaffPosition
from resolvers.access import Principal
from resolvers.people.rules import person_readable, reads_everyone_enrolled_at
from resolvers.relay import Ordering

PERSON_COLUMNS: tuple[Any, ...] = (
    Person.id,
    Person.gid,
    Person.pin,
    Person.last_name,
    Person.first_name,
    Person.patronymic,
    Person.sex,
    Person.birth_date,
    Person.registered_district_id,
    Person.registered_address,
    Person.created_at,
)

PERSON_ORDERINGS = {
    "LAST_NAME": Ordering(
        ((Person.last_name, False), (Person.first_name, False), (Person.id, False)),
        personal=frozenset({"Person.lastName", "Person.firstName"}),
    ),
    "BIRTH_DATE": Ordering(
        ((Person.birth_date, False), (Person.id, False)),
        personal=frozenset({"Person.birthDate"}),
    ),
    "CREATED_AT": Ordering(((Person.created_at, False), (Person.id, False))),
    "ID": Ordering(((Person.id, False),)),
}

# An institution's staff list.
STAFF_ORDER = Ordering(((StaffPosition.id, False),))


@dataclass(frozen=True)
class PersonFilter:
    """Filters of the person list; every field narrows the list."""

    pin: str | None = None
    name: str | None = None
    sex: Sex | None = None
    born_after: date | None = None
    born_before: date | None = None
    institution_id: int | None = None
    region_id: int | None = None
    grade_level: int | None = None
    currently_enrolled: bool | None = None


def persons_query(principal: Principal, flt: PersonFilter) -> Select[Any]:
    """People the principal may read, narrowed by the filter."""
    # Where the filter keeps only people enrolled where the principal reads everyone, the row
    # rule holds for every row the filter keeps, and PostgreSQL skips its probes.
    everyone = reads_everyone_enrolled_at(
        principal, region_id=flt.region_id, institution_id=flt.institution_id
    )
    stmt: Select[Any] = select(*PERSON_COLUMNS).where(or_(everyone, person_readable(principal)))
    if flt.pin is not None:
        stmt = stmt.where(Person.pin == flt.pin)
    if flt.name:
        pattern = (
            "%"
            + flt.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        stmt = stmt.where(func.lower(Person.last_name + " " + Person.first_name).like(pattern))
    if flt.sex is not None:
        stmt = stmt.where(Person.sex == flt.sex)
    if flt.born_after is not None:
        stmt = stmt.where(Person.birth_date >= flt.born_after)
    if flt.born_before is not None:
        stmt = stmt.where(Person.birth_date <= flt.born_before)
    enrollment_clauses: list[Any] = []
    if flt.institution_id is not None:
        enrollment_clauses.append(Enrollment.institution_id == flt.institution_id)
    if flt.region_id is not None:
        enrollment_clauses.append(
            Enrollment.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt.region_id)
            )
        )
    if flt.grade_level is not None:
        enrollment_clauses.append(Enrollment.grade_level == flt.grade_level)
    if enrollment_clauses or flt.currently_enrolled:
        current = bool(flt.currently_enrolled) or flt.grade_level is not None
        if current:
            enrollment_clauses.append(Enrollment.exit_date.is_(None))
        if current and (
            flt.institution_id is not None
            or (flt.region_id is not None and flt.grade_level is not None)
        ):
            # The current pupils of a school, or of a grade in a region, are few (hundreds to
            # tens of thousands): read their ids from ix_enrollment_open_institution_grade and
            # fetch just those people, instead of walking everyone in name order and probing
            # each one's enrollments.
            pupils = select(Enrollment.person_id).where(*enrollment_clauses)
            stmt = stmt.where(Person.id == any_(func.array(pupils.scalar_subquery())))
        else:
            stmt = stmt.where(
                exists().where(Enrollment.person_id == Person.id, *enrollment_clauses)
            )
    elif flt.currently_enrolled is False:
        stmt = stmt.where(
            ~exists().where(Enrollment.person_id == Person.id, Enrollment.exit_date.is_(None))
        )
    return stmt
