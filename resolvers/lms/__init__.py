"""The school LMS "Sanarip Mektep" (issue 15): the school year and year-end promotion
(``years``, ``promotion``), classes (``classes``), the timetable (``timetable``), lessons,
attendance and marks (``lessons``, ``attendance``, ``gradebook``, ``journal``), homework
(``homework``), the e-diary (``diary``), the anonymous concern channel (``concerns``), the
OneRoster 1.2 service for partners (``oneroster``), who may read and write what (``rules``),
the root lists (``queries``) and the loaders."""

from resolvers.errors import ErrorCode
from resolvers.lms.attendance import AttendanceEntry, pupils_of_lesson, record_attendance
from resolvers.lms.classes import (
    assign_pupils_to_class,
    assign_teacher,
    class_name,
    create_class_group,
)
from resolvers.lms.concerns import (
    CONCERN_ORDER,
    Reported,
    advance_concern_report,
    concern_reports_query,
    report_by_receipt,
    report_concern,
)
from resolvers.lms.diary import Diary, DiaryDay, DiaryLesson, diary
from resolvers.lms.errors import LmsCode
from resolvers.lms.gradebook import (
    RESULT_RULE,
    MarkEntry,
    ResultSetting,
    Scheme,
    override_result,
    record_marks,
)
from resolvers.lms.gradebook import (
    WEIGHTS as RESULT_WEIGHTS,
)
from resolvers.lms.homework import (
    SUBMISSION_FILES,
    Handed,
    assign_homework,
    review_homework,
    submit_homework,
)
from resolvers.lms.journal import Journal, JournalRow, journal
from resolvers.lms.lessons import LessonRecord, day_slots_query, record_class_lesson
from resolvers.lms.promotion import (
    ClosureRequest,
    close_academic_year,
    close_school_year,
    decide_promotion,
    run_pending_closures,
)
from resolvers.lms.queries import (
    ACADEMIC_YEAR_ORDER,
    CLASS_ORDER,
    ClassFilter,
    academic_years_query,
    class_groups_query,
)
from resolvers.lms.rules import (
    can_report_concern,
    class_readable,
    gradebook_readable,
    is_counsellor,
)
from resolvers.lms.timetable import (
    PeriodTimes,
    SlotChange,
    SubjectHours,
    create_room,
    hours_against_plan,
    set_bell_schedule,
    set_timetable_slot,
    slots_query,
)
from resolvers.lms.years import (
    Policy,
    TermDates,
    create_academic_year,
    default_terms,
    school_policy,
    set_school_policy,
    year_on,
)
from resolvers.mutations import register_constraint

for name, code, message, field in (
    ("ex_academic_year_overlap", LmsCode.ACADEMIC_YEAR_EXISTS,
     "Another academic year covers these dates", "startsOn"),
    ("uq_academic_year_start_year", LmsCode.ACADEMIC_YEAR_EXISTS,
     "An academic year already starts in this year", "startsOn"),
    ("ex_term_overlap", ErrorCode.INVALID_DATE, "Terms overlap", "terms"),
    ("ck_term_within_year", LmsCode.DATE_OUTSIDE_YEAR, "The terms lie within the year", "terms"),
    ("uq_class_group_institution_id", LmsCode.CLASS_EXISTS,
     "The school already has this class this year", "letter"),
    ("ck_class_group_size", LmsCode.CLASS_SIZE_EXCEEDED, "The class is full", "pupilIds"),
    ("ck_class_membership_open_enrollment", LmsCode.NOT_ENROLLED,
     "The pupil's enrollment has ended", "pupilIds"),
    ("fk_class_membership_enrollment_at_school_and_grade", LmsCode.NOT_ENROLLED,
     "The pupil is not enrolled at this school in this grade", "pupilIds"),
    ("uq_class_membership_open_pupil_year", LmsCode.ALREADY_IN_CLASS,
     "The pupil was put in another class at the same time", "pupilIds"),
    ("uq_class_membership_open_enrollment", LmsCode.ALREADY_IN_CLASS,
     "The pupil was put in another class at the same time", "pupilIds"),
    ("fk_teaching_assignment_post_at_school", LmsCode.NOT_STAFF,
     "The teacher holds no post at this school", "teacherId"),
    ("ex_bell_period_overlap", ErrorCode.INVALID_INPUT, "Periods of a shift overlap", "periods"),
    ("uq_room_institution_id", ErrorCode.INVALID_INPUT,
     "The school has a room of this name", "name"),
    ("ex_timetable_slot_teacher", LmsCode.TIMETABLE_CLASH,
     "The teacher has another lesson at that time", "teacherId"),
    ("ex_timetable_slot_class", LmsCode.TIMETABLE_CLASH,
     "The class has another lesson at that time", "period"),
    ("ex_timetable_slot_room", LmsCode.TIMETABLE_CLASH,
     "The room is taken at that time", "roomId"),
    ("fk_timetable_slot_assigned_teacher", LmsCode.TEACHER_NOT_ASSIGNED,
     "The teacher is not assigned this subject in this class", "teacherId"),
    ("ex_class_lesson_teacher_busy", LmsCode.TIMETABLE_CLASH,
     "The teacher gives another lesson at that time", "replacementTeacherId"),
    ("ck_class_lesson_in_term", LmsCode.DATE_IN_HOLIDAYS,
     "The date falls in the holidays", "date"),
    ("ck_register_pupil_in_class", LmsCode.PUPIL_NOT_IN_CLASS,
     "The pupil is not in this class on the lesson's date", None),
    ("ck_mark_scheme_of_grade", LmsCode.MARK_OUTSIDE_SCHEME,
     "The mark does not fit the assessment scheme of the pupil's grade", "marks"),
    ("ck_mark_fits_scheme", LmsCode.MARK_OUTSIDE_SCHEME,
     "The mark does not fit its assessment scheme", "marks"),
    ("uq_mark_current", LmsCode.CORRECTION_NEEDS_REASON,
     "The pupil already has a mark for this work", "marks"),
):  # fmt: skip
    register_constraint(name, code, message, field)

__all__ = [
    "ACADEMIC_YEAR_ORDER",
    "CLASS_ORDER",
    "CONCERN_ORDER",
    "RESULT_RULE",
    "RESULT_WEIGHTS",
    "SUBMISSION_FILES",
    "AttendanceEntry",
    "ClassFilter",
    "ClosureRequest",
    "Diary",
    "DiaryDay",
    "DiaryLesson",
    "Handed",
    "Journal",
    "JournalRow",
    "LessonRecord",
    "LmsCode",
    "MarkEntry",
    "PeriodTimes",
    "Policy",
    "Reported",
    "ResultSetting",
    "Scheme",
    "SlotChange",
    "SubjectHours",
    "TermDates",
    "academic_years_query",
    "advance_concern_report",
    "assign_homework",
    "assign_pupils_to_class",
    "assign_teacher",
    "can_report_concern",
    "class_groups_query",
    "class_name",
    "class_readable",
    "close_academic_year",
    "close_school_year",
    "concern_reports_query",
    "create_academic_year",
    "create_class_group",
    "create_room",
    "day_slots_query",
    "decide_promotion",
    "default_terms",
    "diary",
    "gradebook_readable",
    "hours_against_plan",
    "is_counsellor",
    "journal",
    "override_result",
    "pupils_of_lesson",
    "record_attendance",
    "record_class_lesson",
    "record_marks",
    "report_by_receipt",
    "report_concern",
    "review_homework",
    "run_pending_closures",
    "school_policy",
    "set_bell_schedule",
    "set_school_policy",
    "set_timetable_slot",
    "slots_query",
    "submit_homework",
    "year_on",
]
