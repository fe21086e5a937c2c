"""The people domain's DataLoaders, each restricted by the rule of who may read whom."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement

from models import Guardianship, Person, PersonPin, StaffPosition
from resolvers.loaders import ById, ByParent, PagesByParent
from resolvers.people.queries import PERSON_COLUMNS
from resolvers.people.rules import guardianship_readable, person_readable, staff_readable


class PersonByIdLoader(ById):
    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return person_readable(self.principal)


class GuardianshipByIdLoader(ById):
    """A guardianship link, readable with both its guardian and its child."""

    columns = tuple(Guardianship.__table__.c)
    key = Guardianship.id

    def rule(self) -> ColumnElement[bool]:
        return guardianship_readable(self.principal)


class StaffPositionByIdLoader(ById):
    columns = tuple(StaffPosition.__table__.c)
    key = StaffPosition.id

    def rule(self) -> ColumnElement[bool]:
        return staff_readable(self.principal)


class PinsByPersonLoader(ByParent):
    """A person's PINs, the current one first."""

    columns = tuple(PersonPin.__table__.c)
    parent = PersonPin.person_id
    order_by = (PersonPin.valid_from.desc(),)


class GuardianshipsByChildLoader(ByParent):
    """A child's links to the guardians the caller may read (the child being read already,
    this is :func:`guardianship_readable`)."""

    columns = tuple(Guardianship.__table__.c)
    parent = Guardianship.child_id
    order_by = (Guardianship.valid_from, Guardianship.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (person_readable(self.principal, Guardianship.guardian_id),)


class GuardianshipsByGuardianLoader(ByParent):
    """A guardian's links to the children the caller may read (the guardian being read
    already, this is :func:`guardianship_readable`)."""

    columns = tuple(Guardianship.__table__.c)
    parent = Guardianship.guardian_id
    order_by = (Guardianship.valid_from, Guardianship.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (person_readable(self.principal, Guardianship.child_id),)


class StaffPositionsByPersonLoader(ByParent):
    columns = tuple(StaffPosition.__table__.c)
    parent = StaffPosition.person_id
    order_by = (StaffPosition.start_date.desc(), StaffPosition.id)


class StaffPositionsByInstitutionLoader(PagesByParent):
    """Pages of an institution's staff; the filter ``True`` keeps current posts only."""

    columns = tuple(StaffPosition.__table__.c)
    parent = StaffPosition.institution_id

    def where(self, flt: object) -> list[ColumnElement[bool]]:
        return [
            staff_readable(self.principal),
            *([StaffPosition.end_date.is_(None)] if flt else []),
        ]
