"""Learning content in the graph (issue 16): the curriculum, lessons with their media, quizzes
and history (``types``), open courses, runs, enrollments and certificates (``courses``), a
learner's feed and offline packs (``learning``), root fields (``queries``), inputs and the
mutations (``mutations`` for lessons and progress, ``course_mutations`` for open courses)."""

from strawberry.tools import merge_types

from schema.content import course_mutations, mutations
from schema.content.courses import (
    CourseCertificate,
    CourseEnrollment,
    CourseRun,
    OpenCourse,
)
from schema.content.queries import Query
from schema.content.types import CurriculumUnit, Lesson

Mutation = merge_types("ContentMutation", (mutations.Mutation, course_mutations.Mutation))
NODE_TYPES = (CurriculumUnit, Lesson, OpenCourse, CourseRun, CourseEnrollment, CourseCertificate)

__all__ = [
    "NODE_TYPES",
    "CourseCertificate",
    "CourseEnrollment",
    "CourseRun",
    "CurriculumUnit",
    "Lesson",
    "Mutation",
    "OpenCourse",
    "Query",
]
