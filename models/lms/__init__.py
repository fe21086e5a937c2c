"""The school LMS ("Sanarip Mektep", issue 15): the school year and its terms, classes and
their subjects, the timetable, lessons with attendance and marks, homework, and the pupils'
anonymous concern channel.

The three big tables (``class_lesson``, ``attendance``, ``mark``) are partitioned by academic year
(PostgreSQL declarative partitioning, LIST on ``academic_year_id``); a year's partitions are
made by a trigger when the year is created (migration 0019)."""

from models.lms.classes import (
    ClassGroup,
    ClassMembership,
    ClassMembershipHalf,
    ClassSubject,
    CurriculumPlan,
    TeachingAssignment,
)
from models.lms.concerns import (
    ConcernCategory,
    ConcernQuota,
    ConcernReport,
    ConcernReportEvent,
    ConcernStatus,
)
from models.lms.gradebook import (
    Attendance,
    AttendanceStatus,
    ClassLesson,
    ClassLessonStatus,
    Mark,
    MarkWork,
    ResultOverride,
)
from models.lms.homework import Homework, HomeworkFile, HomeworkSubmission, SubmissionStatus
from models.lms.oneroster import OneRosterEnrollment, OneRosterUser
from models.lms.timetable import BellPeriod, Room, TimetableSlot
from models.lms.years import (
    AcademicYear,
    AcademicYearClosure,
    AssessmentRule,
    AssessmentScheme,
    ClosureStatus,
    CurriculumModel,
    LmsPolicy,
    PromotionDecision,
    PromotionOutcome,
    Term,
)

__all__ = [
    "AcademicYear",
    "AcademicYearClosure",
    "AssessmentRule",
    "AssessmentScheme",
    "Attendance",
    "AttendanceStatus",
    "BellPeriod",
    "ClassGroup",
    "ClassLesson",
    "ClassLessonStatus",
    "ClassMembership",
    "ClassMembershipHalf",
    "ClassSubject",
    "ClosureStatus",
    "ConcernCategory",
    "ConcernQuota",
    "ConcernReport",
    "ConcernReportEvent",
    "ConcernStatus",
    "CurriculumModel",
    "CurriculumPlan",
    "Homework",
    "HomeworkFile",
    "HomeworkSubmission",
    "LmsPolicy",
    "Mark",
    "MarkWork",
    "OneRosterEnrollment",
    "OneRosterUser",
    "PromotionDecision",
    "PromotionOutcome",
    "ResultOverride",
    "Room",
    "SubmissionStatus",
    "TeachingAssignment",
    "Term",
    "TimetableSlot",
]
