"""A school's profile (issue 14.3; domain.md S1, F5, F6): its type, the grades it teaches,
its shifts, and whether it takes first graders through e-enrollment."""

from __future__ import annotations

from dataclasses import dataclass

from models import Institution, InstitutionKind, SchoolType
from resolvers.errors import DomainError, ErrorCode

# The grades a type teaches unless the registry says otherwise. Gymnasiums and lyceums vary
# (many start at grade 5 or 8): their range is a default the registry corrects per school.
DEFAULT_GRADES: dict[SchoolType, tuple[int, int]] = {
    SchoolType.PRIMARY_1_4: (1, 4),
    SchoolType.PRIMARY_1_6: (1, 6),
    SchoolType.BASIC: (1, 9),
    SchoolType.COMPLETE_11: (1, 11),
    SchoolType.COMPLETE_12: (1, 12),
    SchoolType.GYMNASIUM: (1, 11),
    SchoolType.LYCEUM: (1, 11),
    SchoolType.BOARDING: (1, 11),
    SchoolType.SPECIAL_NEEDS: (1, 11),
}
# domain.md F6: special-needs schools, boarding schools and selective lyceums admit outside
# e-enrollment; the registry may say otherwise for one school.
OUTSIDE_BY_DEFAULT = frozenset({SchoolType.SPECIAL_NEEDS, SchoolType.BOARDING, SchoolType.LYCEUM})


@dataclass
class SchoolProfile:
    """The school fields of an edit; ``None`` leaves a field as it is."""

    school_type: SchoolType | None = None
    grade_from: int | None = None
    grade_to: int | None = None
    shifts: int | None = None
    outside_e_enrollment: bool | None = None

    def given(self) -> bool:
        return any(v is not None for v in vars(self).values())


def apply_school_profile(inst: Institution, profile: SchoolProfile) -> None:
    """Set a school's profile: a new type brings its default grades and F6 flag unless the
    edit gives them; grades are 1-12, from <= to; shifts 1-3."""
    if not profile.given():
        return
    if inst.kind != InstitutionKind.SCHOOL:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Only schools have a school type", field="schoolType"
        )
    if profile.school_type is not None and profile.school_type != inst.school_type:
        inst.school_type = profile.school_type
        inst.grade_from, inst.grade_to = DEFAULT_GRADES[profile.school_type]
        inst.outside_e_enrollment = profile.school_type in OUTSIDE_BY_DEFAULT
    if (profile.grade_from is None) != (profile.grade_to is None):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Give the first and the last grade taught", field="gradeFrom"
        )
    if profile.grade_from is not None and profile.grade_to is not None:
        if not 1 <= profile.grade_from <= profile.grade_to <= 12:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "Grades taught are 1-12, first <= last", field="gradeFrom"
            )
        inst.grade_from, inst.grade_to = profile.grade_from, profile.grade_to
    if profile.shifts is not None:
        if not 1 <= profile.shifts <= 3:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "A school runs 1 to 3 shifts", field="shifts"
            )
        inst.shifts = profile.shifts
    if profile.outside_e_enrollment is not None:
        inst.outside_e_enrollment = profile.outside_e_enrollment
