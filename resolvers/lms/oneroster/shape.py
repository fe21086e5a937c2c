"""What every OneRoster object shares: the GUID references between objects (``href``,
``sourcedId``, ``type``), dates as the specification writes them, and the three fields of its
base class (``sourcedId``, ``status``, ``dateLastModified``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, String, cast

from models import AssessmentRule, ClassGroup, ClassSubject, CurriculumPlan

# A reference to another object: Ref(plural, sourcedId, type) -> GUIDRef (None for no id).
Ref = Callable[[str, str | None, str], dict[str, str] | None]

# Every dateLastModified column: typed, so a filter compares times, never their text.
STAMP = DateTime(timezone=True)
GRADEBOOK_PLURALS = frozenset(
    {
        "categories",
        "lineItems",
        "results",
        "scoreScales",
        "assessmentLineItems",
        "assessmentResults",
    }
)


def ts(value: Any) -> Any:
    return cast(value, DateTime(timezone=True))


def text(value: Any) -> Any:
    return cast(value, String)


def grading_period_id(term_gid: Any) -> Any:
    """A quarter's grading period (the academic session marks are given in), a child of the
    quarter as a term: ``grading-<term>``."""
    return "grading-" + term_gid


def course_of_class() -> Any:
    """The join condition of a class subject's course: the curriculum plan's row for its
    subject in its class's grade and curriculum model."""
    return (
        (CurriculumPlan.subject_id == ClassSubject.subject_id)
        & (CurriculumPlan.grade == ClassGroup.grade)
        & (CurriculumPlan.curriculum_model == ClassGroup.curriculum_model)
    )


def scale_of_class() -> Any:
    """The join condition of a class's mark scheme: the assessment rule of its grade and
    curriculum model."""
    return (AssessmentRule.curriculum_model == ClassGroup.curriculum_model) & (
        AssessmentRule.grade == ClassGroup.grade
    )


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def base(row: Any) -> dict[str, Any]:
    return {
        "sourcedId": row.sourced_id,
        "status": row.status,
        "dateLastModified": iso(row.modified),
    }


def references(base_url: str) -> Ref:
    """GUIDRefs whose ``href`` points at this hub's endpoint of the object."""

    def ref(plural: str, sourced_id: str | None, kind: str) -> dict[str, str] | None:
        if sourced_id is None:
            return None
        service = "gradebook" if plural in GRADEBOOK_PLURALS else "rostering"
        return {
            "href": f"{base_url}/ims/oneroster/{service}/v1p2/{plural}/{sourced_id}",
            "sourcedId": sourced_id,
            "type": kind,
        }

    return ref
