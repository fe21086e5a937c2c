"""The school LMS's mutation inputs."""

from __future__ import annotations

from datetime import date, time

import strawberry
from strawberry.file_uploads import Upload

from schema.institutions import Language
from schema.lms.enums import (
    AttendanceStatus,
    ConcernCategory,
    ConcernStatus,
    MarkWork,
    PromotionOutcome,
)

ID = strawberry.ID


@strawberry.input(description="A term's dates.")
class TermInput:
    number: int = strawberry.field(description="1 to 4.")
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day.")


@strawberry.input(description="A new school year (the ministry).")
class CreateAcademicYearInput:
    starts_on: date = strawberry.field(description="First day (early September).")
    ends_on: date = strawberry.field(description="Last day (late May).")
    terms: list[TermInput] | None = strawberry.field(
        default=None, description="The four terms; the usual holidays between them if unset."
    )


@strawberry.input(description="Close a school year: promote, retain, graduate.")
class CloseAcademicYearInput:
    academic_year_id: ID = strawberry.field(description="The year that ended.")
    school_id: ID | None = strawberry.field(
        default=None,
        description="One school, closed now; unset: every school in your scope, queued.",
    )


@strawberry.input(description="A council's year-end decision for a pupil.")
class DecidePromotionInput:
    academic_year_id: ID = strawberry.field(description="The year.")
    enrollment_id: ID = strawberry.field(description="The pupil's enrollment in that year.")
    outcome: PromotionOutcome = strawberry.field(description="Retain, leave, or promote.")
    reason: str = strawberry.field(description="The decision's grounds.")


@strawberry.input(description="A school's own LMS policy (unset fields stay as they hold).")
class SetLmsPolicyInput:
    school_id: ID | None = strawberry.field(
        default=None, description="The school; unset: the national row (the ministry)."
    )
    max_class_size: int | None = strawberry.field(default=None, description="Pupils a class.")
    basic_only: bool | None = strawberry.field(default=None, description="Grades 1-9 only.")
    twelve_year_from: int | None = strawberry.field(
        default=None, description="First grade-1 intake under the 12-year standard."
    )
    school_days: int | None = strawberry.field(default=None, description="5 or 6.")


@strawberry.input(description="A new class of a school for a year.")
class CreateClassGroupInput:
    school_id: ID = strawberry.field(description="The school.")
    academic_year_id: ID = strawberry.field(description="The year.")
    grade: int = strawberry.field(description="Grade 1-12.")
    letter: str = strawberry.field(description="The letter, e.g. А.")
    language: Language = strawberry.field(description="Language of instruction.")
    shift: int = strawberry.field(default=1, description="1, 2 or 3.")
    homeroom_teacher_id: ID | None = strawberry.field(
        default=None, description="The home-room teacher (a staff member of the school)."
    )
    capacity: int | None = strawberry.field(
        default=None, description="The most pupils (the school's limit by default)."
    )


@strawberry.input(description="Put pupils in a class (all or none).")
class AssignPupilsToClassInput:
    class_group_id: ID = strawberry.field(description="The class.")
    pupil_ids: list[ID] = strawberry.field(description="The pupils (up to 60).")
    since: date | None = strawberry.field(default=None, description="From (today by default).")


@strawberry.input(description="Put pupils of a class in a half of it for a subject (all or none).")
class AssignPupilsToHalfInput:
    class_group_id: ID = strawberry.field(description="The class.")
    subject_id: ID = strawberry.field(description="A subject the class learns.")
    subgroup: int = strawberry.field(
        description="1 or 2: the half (the timetable slots' subgroup); 0: back with the whole "
        "class."
    )
    pupil_ids: list[ID] = strawberry.field(description="Pupils of the class (up to 60).")


@strawberry.input(description="Make a teacher the teacher of a subject in a class.")
class AssignTeacherInput:
    class_group_id: ID = strawberry.field(description="The class.")
    subject_id: ID = strawberry.field(description="A subject the class learns.")
    teacher_id: ID = strawberry.field(description="A staff member of the school.")


@strawberry.input(description="A period of a shift.")
class PeriodInput:
    number: int = strawberry.field(description="0-12.")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")


@strawberry.input(description="Set a shift's periods at a school.")
class SetBellScheduleInput:
    school_id: ID = strawberry.field(description="The school.")
    shift: int = strawberry.field(default=1, description="The shift.")
    periods: list[PeriodInput] = strawberry.field(description="Its periods.")


@strawberry.input(description="Add a room to a school.")
class CreateRoomInput:
    school_id: ID = strawberry.field(description="The school.")
    name: str = strawberry.field(description="E.g. 204.")
    capacity: int | None = strawberry.field(default=None, description="Seats.")


@strawberry.input(description="Set (or clear) one place in a class's week from a date on.")
class SetTimetableSlotInput:
    class_group_id: ID = strawberry.field(description="The class.")
    weekday: int = strawberry.field(description="1 (Monday) to 6.")
    period: int = strawberry.field(description="A period of the class's shift.")
    subgroup: int = strawberry.field(default=0, description="0 whole class; 1 or 2 a half.")
    subject_id: ID | None = strawberry.field(
        default=None, description="The subject; unset clears the place."
    )
    teacher_id: ID | None = strawberry.field(default=None, description="Its teacher.")
    room_id: ID | None = strawberry.field(default=None, description="The room.")
    effective_from: date | None = strawberry.field(
        default=None, description="From (today, or the year's start, by default)."
    )


@strawberry.input(description="Record a lesson of a timetable slot on a date.")
class RecordClassLessonInput:
    slot_id: ID = strawberry.field(description="The timetable slot.")
    date: date = strawberry.field(description="The day.")
    topic: str | None = strawberry.field(default=None, description="The topic.")
    curriculum_unit_id: ID | None = strawberry.field(
        default=None,
        description="The curriculum topic taught (a CurriculumUnit of the slot's subject and "
        "the class's grade; its title is the topic unless one is given): the feed of the "
        "class's pupils follows it.",
    )
    replacement_teacher_id: ID | None = strawberry.field(
        default=None, description="Who replaced the slot's teacher (the school's administration)."
    )
    cancelled: bool = strawberry.field(default=False, description="It did not take place.")


@strawberry.input(description="A pupil in a lesson's register.")
class AttendanceEntryInput:
    pupil_id: ID = strawberry.field(description="The pupil.")
    status: AttendanceStatus = strawberry.field(description="Present, absent, late, excused.")
    reason: str | None = strawberry.field(default=None, description="Why (excused: required).")
    minutes_late: int | None = strawberry.field(default=None, description="Late by (1-90).")


@strawberry.input(description="Take a lesson's register for the whole class (all or none).")
class RecordAttendanceInput:
    lesson_id: ID = strawberry.field(description="The lesson.")
    entries: list[AttendanceEntryInput] = strawberry.field(
        description="The pupils not present (and any present); unlisted pupils were present."
    )


@strawberry.input(description="A pupil's mark in a lesson.")
class MarkInput:
    pupil_id: ID = strawberry.field(description="The pupil.")
    work: MarkWork = strawberry.field(default=MarkWork.CLASSWORK, description="What it is for.")
    value: int | None = strawberry.field(default=None, description="The mark, in the scheme.")
    criterion: str | None = strawberry.field(default=None, description="A, B, C or D (criteria).")
    comment: str | None = strawberry.field(
        default=None, description="A comment; the feedback itself in descriptive grades."
    )


@strawberry.input(description="Record marks of a lesson for the class (all or none).")
class RecordMarksInput:
    lesson_id: ID = strawberry.field(description="The lesson.")
    marks: list[MarkInput] = strawberry.field(description="The marks (up to 90).")
    correction_reason: str | None = strawberry.field(
        default=None, description="Why marks already given are changed (required to change one)."
    )


@strawberry.input(description="Set a pupil's term or year result instead of the computed one.")
class OverrideResultInput:
    class_group_id: ID = strawberry.field(description="The class.")
    subject_id: ID = strawberry.field(description="The subject.")
    pupil_id: ID = strawberry.field(description="The pupil.")
    term: int | None = strawberry.field(
        default=None, description="The term (1-4); unset: the year's result."
    )
    value: int | None = strawberry.field(default=None, description="The result.")
    comment: str | None = strawberry.field(default=None, description="Its text (descriptive).")
    reason: str = strawberry.field(description="Why the computed result does not stand.")


@strawberry.input(description="Set a lesson's homework.")
class AssignHomeworkInput:
    lesson_id: ID = strawberry.field(description="The lesson.")
    text: str = strawberry.field(description="What to do.")
    due_on: date = strawberry.field(description="When it is due.")
    accepts_submissions: bool = strawberry.field(
        default=False, description="Pupils hand it in through the hub."
    )


@strawberry.input(description="Hand in homework (a pupil).")
class SubmitHomeworkInput:
    homework_id: ID = strawberry.field(description="The homework.")
    text: str | None = strawberry.field(default=None, description="The answer.")
    files: list[Upload] = strawberry.field(
        default_factory=list, description="Up to 5 files (PDF, images, documents; 10 MB each)."
    )


@strawberry.input(description="Answer handed-in homework (the teacher).")
class ReviewHomeworkInput:
    submission_id: ID = strawberry.field(description="The submission.")
    feedback: str = strawberry.field(description="The feedback.")
    accept: bool = strawberry.field(description="Accept it (else return it to redo).")


@strawberry.input(description="An anonymous concern report (a pupil).")
class ReportConcernInput:
    category: ConcernCategory = strawberry.field(description="What it is about.")
    text: str = strawberry.field(description="What happened (10-4000 characters).")


@strawberry.input(description="Move a concern report on (a counsellor).")
class AdvanceConcernReportInput:
    report_id: ID = strawberry.field(description="The report.")
    status: ConcernStatus = strawberry.field(description="Where it goes.")
    note: str | None = strawberry.field(default=None, description="A note for the file.")
    reply: str | None = strawberry.field(default=None, description="An answer the reporter reads.")
