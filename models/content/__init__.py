"""Learning content (issue 16; domain.md S1, S5): the state curriculum, video/TV lessons by
grade x subject x language with their media, quizzes and learners' progress, and the open
courses universities offer to students, with runs, enrollments and certificates.

Modules: ``curriculum`` (subjects, curriculum units), ``lessons`` (lessons, their history,
media, broadcasts and quiz questions), ``progress`` (learners' progress and the statements it
is made of) and ``courses`` (the open education portal)."""

from models.content.courses import (
    AssessmentKind,
    AssessmentResult,
    CourseAssessment,
    CourseCertificate,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseModule,
    CourseRun,
    OpenCourse,
)
from models.content.curriculum import CurriculumStandard, CurriculumUnit
from models.content.lessons import (
    FOLD_FUNCTION,
    Lesson,
    LessonAction,
    LessonBroadcast,
    LessonListVersion,
    LessonMedia,
    LessonRevision,
    LessonStatus,
    MediaKind,
    QuestionKind,
    QuizQuestion,
)
from models.content.progress import LessonProgress, ProgressStatement, ProgressStatus, ProgressVerb

__all__ = [
    "FOLD_FUNCTION",
    "AssessmentKind",
    "AssessmentResult",
    "CourseAssessment",
    "CourseCertificate",
    "CourseEnrollment",
    "CourseEnrollmentStatus",
    "CourseModule",
    "CourseRun",
    "CurriculumStandard",
    "CurriculumUnit",
    "Lesson",
    "LessonAction",
    "LessonBroadcast",
    "LessonListVersion",
    "LessonMedia",
    "LessonProgress",
    "LessonRevision",
    "LessonStatus",
    "MediaKind",
    "OpenCourse",
    "ProgressStatement",
    "ProgressStatus",
    "ProgressVerb",
    "QuestionKind",
    "QuizQuestion",
]
