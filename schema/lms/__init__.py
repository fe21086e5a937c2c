"""The school LMS in the graph (issue 15): enums, inputs, the structure (``types``), what is
recorded day by day (``records``), the concern channel (``concerns``), the root fields
(``queries``, ``mutations``) and the OneRoster 1.2 endpoints (``oneroster``)."""

from schema.lms.concerns import ConcernReport
from schema.lms.mutations import Mutation
from schema.lms.queries import Query
from schema.lms.records import ClassLesson, Homework, HomeworkSubmission
from schema.lms.types import AcademicYear, ClassGroup, Room, Subject, Term, TimetableSlot

NODE_TYPES = [
    AcademicYear,
    Term,
    Subject,
    ClassGroup,
    Room,
    TimetableSlot,
    ClassLesson,
    Homework,
    HomeworkSubmission,
    ConcernReport,
]

__all__ = ["NODE_TYPES", "Mutation", "Query"]
