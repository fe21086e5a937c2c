"""People: persons and their PINs (``registration``), guardianship, staff posts, the person
list (``queries``), who may read and act on whom (``rules``) and the loaders."""

from resolvers.mutations import register_constraint
from resolvers.people.errors import PeopleCode
from resolvers.people.guardianship import link_guardian
from resolvers.people.queries import (
    PERSON_COLUMNS,
    PERSON_ORDERINGS,
    STAFF_ORDER,
    PersonFilter,
    persons_query,
)
from resolvers.people.registration import register_person, reissue_pin
from resolvers.people.rules import (
    can_read_person,
    can_register_person,
    person_for_action,
    reads_contacts_given_by,
)
from resolvers.people.staff import appoint_staff

PIN_TAKEN_MESSAGE = "This PIN belongs to another person"
register_constraint("uq_person_pin_current", PeopleCode.PIN_TAKEN, PIN_TAKEN_MESSAGE, "pin")
register_constraint("uq_person_pin_pin_current", PeopleCode.PIN_TAKEN, PIN_TAKEN_MESSAGE, "pin")
register_constraint("ex_person_pin_one_holder", PeopleCode.PIN_TAKEN, PIN_TAKEN_MESSAGE, "pin")
register_constraint(
    "uq_guardianship_active",
    PeopleCode.ALREADY_LINKED,
    "This guardian is already linked to this child",
    "guardianId",
)
register_constraint(
    "ck_guardianship_not_self",
    PeopleCode.SELF_GUARDIANSHIP,
    "A person cannot be their own guardian",
    "guardianId",
)

__all__ = [
    "PERSON_COLUMNS",
    "PERSON_ORDERINGS",
    "STAFF_ORDER",
    "PersonFilter",
    "appoint_staff",
    "can_read_person",
    "can_register_person",
    "link_guardian",
    "person_for_action",
    "persons_query",
    "reads_contacts_given_by",
    "register_person",
    "reissue_pin",
]
