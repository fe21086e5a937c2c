"""The school LMS's enums, as the graph names them."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from models import AssessmentScheme as AssessmentSchemeEnum
from models import AttendanceStatus as AttendanceStatusEnum
from models import ClassLessonStatus as LessonStatusEnum
from models import ClosureStatus as ClosureStatusEnum
from models import ConcernCategory as ConcernCategoryEnum
from models import ConcernStatus as ConcernStatusEnum
from models import CurriculumModel as CurriculumModelEnum
from models import MarkWork as MarkWorkEnum
from models import PromotionOutcome as PromotionOutcomeEnum
from models import SubmissionStatus as SubmissionStatusEnum

strawberry.enum(
    CurriculumModelEnum,
    name="CurriculumModel",
    description="The state standard a class learns under: 12-year, or the legacy 11-year.",
)
CurriculumModel: TypeAlias = CurriculumModelEnum
strawberry.enum(
    AssessmentSchemeEnum,
    name="AssessmentScheme",
    description="How a grade is assessed: descriptive feedback (no marks), points, "
    "criteria-based levels, or the legacy 2-5 marks.",
)
AssessmentScheme: TypeAlias = AssessmentSchemeEnum
strawberry.enum(
    AttendanceStatusEnum, name="AttendanceStatus", description="A pupil's attendance at a lesson."
)
AttendanceStatus: TypeAlias = AttendanceStatusEnum
strawberry.enum(
    LessonStatusEnum, name="ClassLessonStatus", description="Whether a lesson took place."
)
ClassLessonStatus: TypeAlias = LessonStatusEnum
strawberry.enum(MarkWorkEnum, name="MarkWork", description="What a mark is for.")
MarkWork: TypeAlias = MarkWorkEnum
strawberry.enum(
    SubmissionStatusEnum,
    name="SubmissionStatus",
    description="Where handed-in homework stands: waiting, returned to redo, accepted.",
)
SubmissionStatus: TypeAlias = SubmissionStatusEnum
strawberry.enum(
    ConcernCategoryEnum, name="ConcernCategory", description="What a concern report is about."
)
ConcernCategory: TypeAlias = ConcernCategoryEnum
strawberry.enum(
    ConcernStatusEnum, name="ConcernStatus", description="Where a concern report stands."
)
ConcernStatus: TypeAlias = ConcernStatusEnum
strawberry.enum(
    ClosureStatusEnum, name="YearClosureStatus", description="A school's year-end closure."
)
YearClosureStatus: TypeAlias = ClosureStatusEnum
strawberry.enum(
    PromotionOutcomeEnum,
    name="PromotionOutcome",
    description="A council's year-end decision for a pupil.",
)
PromotionOutcome: TypeAlias = PromotionOutcomeEnum
