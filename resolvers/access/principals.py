"""Who is calling: roles, the scopes an officer's or staff member's role holds in, and the
principal of one request (a person's token, or a partner's key and what it grants)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from resolvers.errors import Forbidden


class Role(enum.StrEnum):
    """Roles, lower snake case. Scopes say where an officer's or staff member's role holds."""

    ANONYMOUS = "anonymous"
    MINISTRY = "ministry"
    REGION_OFFICER = "region_officer"
    DISTRICT_OFFICER = "district_officer"
    SCHOOL_ADMIN = "school_admin"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    PUPIL = "pupil"
    ADMISSION_OFFICER = "admission_officer"
    # The ministry's licensing department; a ``region`` scope, when given, narrows it.
    LICENSING_OFFICER = "licensing_officer"
    # Data partners: only through API keys (never a bearer token), scoped by the key.
    PARTNER = "partner"
    # Reads the audit trail, and nothing else.
    AUDITOR = "auditor"
    # Receives pupils' anonymous concern reports (issue 15) in their regions or districts;
    # reads nothing else, and is never a school's staff.
    COUNSELLOR = "counsellor"
    # Runs an institution's library (holdings, loans, holds, textbook sets; issue 17).
    LIBRARIAN = "librarian"
    # Learning content (issue 16): without a scope, the national team that imports the
    # curriculum and edits, reviews and publishes lessons; with an ``institution`` scope, a
    # university's course team (open courses, runs, results, certificates).
    CONTENT_EDITOR = "content_editor"


SCOPED_ROLES = {
    Role.REGION_OFFICER: "region",
    Role.DISTRICT_OFFICER: "district",
    Role.SCHOOL_ADMIN: "institution",
    Role.TEACHER: "institution",
    Role.ADMISSION_OFFICER: "institution",
    Role.LIBRARIAN: "institution",
}
# Roles whose token needs one of several kinds of scope.
EITHER_SCOPE_ROLES = {Role.COUNSELLOR: ("region", "district")}
# End users of the portals and apps; in allow-list mode they send only the portals' operations.
PERSONAL_ROLES = {Role.GUARDIAN, Role.PUPIL}
# Roles whose token must name the person: a teacher reads the classes that person teaches.
ROLES_WITH_PERSON = PERSONAL_ROLES | {Role.TEACHER}
# Roles a bearer token cannot carry.
KEY_ONLY_ROLES = {Role.PARTNER}


@dataclass(frozen=True)
class KeyGrant:
    """What a data partner's API key grants: its subgraph, personal data, and hourly budget."""

    key_id: int
    fields: frozenset[str]
    personal_data: bool
    points_per_hour: int
    # The OneRoster write grant: institutions whose gradebook the key may write (issue 15).
    oneroster_writes: frozenset[int] = frozenset()

    def names_type(self, type_name: str) -> bool:
        """Does the key's subgraph include any field of ``type_name``?"""
        prefix = f"{type_name}."
        return any(entry.startswith(prefix) for entry in self.fields)


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    subject: str
    role: Role
    person_id: int | None = None
    region_ids: frozenset[int] = field(default_factory=frozenset)
    district_ids: frozenset[int] = field(default_factory=frozenset)
    institution_ids: frozenset[int] = field(default_factory=frozenset)
    api_key_prefix: str | None = None
    grant: KeyGrant | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == Role.ANONYMOUS

    @property
    def is_ministry(self) -> bool:
        return self.role == Role.MINISTRY


ANONYMOUS = Principal(subject="anonymous", role=Role.ANONYMOUS)


def require(condition: bool, message: str = "You may not do this") -> None:
    """Raise FORBIDDEN (as a mutation's user error) unless ``condition`` holds."""
    if not condition:
        raise Forbidden(message)
