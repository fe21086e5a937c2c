"""The school LMS's mutations: each a step of :mod:`resolvers.lms`, declared with who may
call it and what it answers."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassGroup as ClassGroupModel
from models import Institution
from resolvers import lms as lms_service
from resolvers.context import Context
from resolvers.errors import NotFound
from resolvers.files import file_store
from resolvers.mutations import MutationResult
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation
from schema.lms.concerns import ConcernReport
from schema.lms.enums import ConcernStatus, PromotionOutcome
from schema.lms.inputs import (
    AdvanceConcernReportInput,
    AssignHomeworkInput,
    AssignPupilsToClassInput,
    AssignPupilsToHalfInput,
    AssignTeacherInput,
    CloseAcademicYearInput,
    CreateAcademicYearInput,
    CreateClassGroupInput,
    CreateRoomInput,
    DecidePromotionInput,
    OverrideResultInput,
    RecordAttendanceInput,
    RecordClassLessonInput,
    RecordMarksInput,
    ReportConcernInput,
    ReviewHomeworkInput,
    SetBellScheduleInput,
    SetLmsPolicyInput,
    SetTimetableSlotInput,
    SubmitHomeworkInput,
)
from schema.lms.records import ClassLesson, Homework, HomeworkSubmission, Mark, ResultOverride
from schema.lms.types import (
    AcademicYear,
    BellPeriod,
    ClassGroup,
    LmsPolicy,
    Room,
    TimetableSlot,
    YearClosure,
)
from schema.node import optional_pk, pk_of


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


@strawberry.type(description="Result of createAcademicYear.")
class AcademicYearPayload(Payload):
    academic_year: AcademicYear | None = strawberry.field(description="The new year.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of closeAcademicYear.")
class CloseAcademicYearPayload(Payload):
    academic_year: AcademicYear | None = strawberry.field(description="The year.")
    closures: list[YearClosure] = strawberry.field(description="The schools closed now.")
    pending: int = strawberry.field(description="Schools queued for the year-end job.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        done: lms_service.ClosureRequest | None = result.value
        return cls(
            academic_year=AcademicYear.from_row(done.year) if done else None,
            closures=[YearClosure.from_row(c) for c in done.closed] if done else [],
            pending=done.pending if done else 0,
            user_errors=user_errors(result.problems),
        )


@strawberry.type(description="A council's decision for a pupil's year end.")
class PromotionDecision:
    outcome: PromotionOutcome = strawberry.field(description="Retain, leave or promote.")
    reason: str = strawberry.field(description="The grounds.")
    decided_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: Any) -> PromotionDecision:
        return cls(outcome=row.outcome, reason=row.reason, decided_at=row.decided_at)


@strawberry.type(description="Result of decidePromotion.")
class PromotionDecisionPayload(Payload):
    decision: PromotionDecision | None = strawberry.field(description="The decision.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of setLmsPolicy.")
class LmsPolicyPayload(Payload):
    policy: LmsPolicy | None = strawberry.field(description="The policy now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of a change to a class.")
class ClassGroupPayload(Payload):
    class_group: ClassGroup | None = strawberry.field(description="The class.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of setBellSchedule.")
class BellSchedulePayload(Payload):
    periods: list[BellPeriod] = strawberry.field(description="The shift's periods now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of createRoom.")
class RoomPayload(Payload):
    room: Room | None = strawberry.field(description="The room.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of setTimetableSlot.")
class TimetableSlotPayload(Payload):
    slot: TimetableSlot | None = strawberry.field(description="The slot set (null: cleared).")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of a change to a lesson.")
class ClassLessonPayload(Payload):
    lesson: ClassLesson | None = strawberry.field(description="The lesson.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of recordMarks.")
class RecordMarksPayload(Payload):
    marks: list[Mark] = strawberry.field(description="The current marks of the pupils named.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of overrideResult.")
class ResultOverridePayload(Payload):
    result: ResultOverride | None = strawberry.field(description="The result set.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of assignHomework.")
class HomeworkPayload(Payload):
    homework: Homework | None = strawberry.field(description="The homework.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of a change to handed-in homework.")
class HomeworkSubmissionPayload(Payload):
    submission: HomeworkSubmission | None = strawberry.field(description="The submission.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of reportConcern.")
class ReportConcernPayload(Payload):
    receipt: str | None = strawberry.field(
        description="Keep it to follow your report (shown this once; it names nobody)."
    )
    status: ConcernStatus | None = strawberry.field(description="Where the report stands.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was sent.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        sent: lms_service.Reported | None = result.value
        return cls(
            receipt=sent.receipt if sent else None,
            status=sent.report.status if sent else None,
            user_errors=user_errors(result.problems),
        )


@strawberry.type(description="Result of advanceConcernReport.")
class ConcernReportPayload(Payload):
    report: ConcernReport | None = strawberry.field(description="The report.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @mutation(
        "lms.create_academic_year",
        AcademicYearPayload,
        description="Create a school year with its terms (the ministry).",
    )
    async def create_academic_year(
        session: AsyncSession, ctx: Context, input: CreateAcademicYearInput
    ) -> Any:
        terms = (
            [lms_service.TermDates(t.number, t.starts_on, t.ends_on) for t in input.terms]
            if input.terms
            else None
        )
        return await lms_service.create_academic_year(
            session, ctx.principal, starts_on=input.starts_on, ends_on=input.ends_on, terms=terms
        )

    @mutation(
        "lms.close_academic_year",
        CloseAcademicYearPayload,
        description="Close a school year: promote every pupil a grade, keep the repeaters the "
        "council named, graduate the last grade, carry the classes on. One school now, or every "
        "school in your scope queued for the year-end job. Closing again does nothing more.",
    )
    async def close_academic_year(
        session: AsyncSession, ctx: Context, input: CloseAcademicYearInput
    ) -> Any:
        return await lms_service.close_academic_year(
            session,
            ctx.principal,
            year_id=pk_of(input.academic_year_id, "AcademicYear", field="academicYearId"),
            school_id=optional_pk(input.school_id, "Institution", field="schoolId"),
        )

    @mutation(
        "lms.decide_promotion",
        PromotionDecisionPayload,
        description="Record the council's year-end decision for a pupil (the school).",
    )
    async def decide_promotion(
        session: AsyncSession, ctx: Context, input: DecidePromotionInput
    ) -> Any:
        return await lms_service.decide_promotion(
            session,
            ctx.principal,
            year_id=pk_of(input.academic_year_id, "AcademicYear", field="academicYearId"),
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId"),
            outcome=input.outcome,
            reason=input.reason,
        )

    @mutation(
        "lms.set_lms_policy",
        LmsPolicyPayload,
        description="Set a school's LMS policy (officers, the ministry) or the national one.",
    )
    async def set_lms_policy(session: AsyncSession, ctx: Context, input: SetLmsPolicyInput) -> Any:
        school = None
        pk = optional_pk(input.school_id, "Institution", field="schoolId")
        if pk is not None:
            school = await session.get(Institution, pk)
            if school is None:
                raise NotFound("The school", field="schoolId")
        return await lms_service.set_school_policy(
            session,
            ctx.principal,
            institution=school,
            max_class_size=input.max_class_size,
            basic_only=input.basic_only,
            twelve_year_from=input.twelve_year_from,
            school_days=input.school_days,
        )

    @mutation(
        "lms.create_class_group",
        ClassGroupPayload,
        description="Open a class of a school for a year, with its grade's curriculum.",
    )
    async def create_class_group(
        session: AsyncSession, ctx: Context, input: CreateClassGroupInput
    ) -> Any:
        return await lms_service.create_class_group(
            session,
            ctx.principal,
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            year_id=pk_of(input.academic_year_id, "AcademicYear", field="academicYearId"),
            grade=input.grade,
            letter=input.letter,
            language=input.language,
            shift=input.shift,
            homeroom_teacher_id=optional_pk(
                input.homeroom_teacher_id, "Person", field="homeroomTeacherId"
            ),
            capacity=input.capacity,
        )

    @mutation(
        "lms.assign_pupils_to_class",
        ClassGroupPayload,
        description="Put pupils in a class, all or none: each with an open enrollment at the "
        "school in the class's grade, the class within its size.",
    )
    async def assign_pupils_to_class(
        session: AsyncSession, ctx: Context, input: AssignPupilsToClassInput
    ) -> Any:
        return await lms_service.assign_pupils_to_class(
            session,
            ctx.principal,
            class_group_id=pk_of(input.class_group_id, "ClassGroup", field="classGroupId"),
            pupil_ids=[
                pk_of(p, "Person", field=f"pupilIds[{i}]") for i, p in enumerate(input.pupil_ids)
            ],
            since=input.since,
        )

    @mutation(
        "lms.assign_pupils_to_half",
        ClassGroupPayload,
        description="Put pupils of a class in a half of it (or back with the whole class) for "
        "a subject the timetable teaches in halves, all or none: each a pupil of the class now.",
    )
    async def assign_pupils_to_half(
        session: AsyncSession, ctx: Context, input: AssignPupilsToHalfInput
    ) -> Any:
        return await lms_service.assign_pupils_to_half(
            session,
            ctx.principal,
            class_group_id=pk_of(input.class_group_id, "ClassGroup", field="classGroupId"),
            subject_id=pk_of(input.subject_id, "Subject", field="subjectId"),
            subgroup=input.subgroup,
            pupil_ids=[
                pk_of(p, "Person", field=f"pupilIds[{i}]") for i, p in enumerate(input.pupil_ids)
            ],
        )

    @mutation(
        "lms.assign_teacher",
        ClassGroupPayload,
        description="Make a staff member the teacher of a subject in a class.",
    )
    async def assign_teacher(session: AsyncSession, ctx: Context, input: AssignTeacherInput) -> Any:
        assignment = await lms_service.assign_teacher(
            session,
            ctx.principal,
            class_group_id=pk_of(input.class_group_id, "ClassGroup", field="classGroupId"),
            subject_id=pk_of(input.subject_id, "Subject", field="subjectId"),
            teacher_id=pk_of(input.teacher_id, "Person", field="teacherId"),
        )
        return await session.get(ClassGroupModel, assignment.class_group_id)

    @mutation(
        "lms.set_bell_schedule",
        BellSchedulePayload,
        description="Set the periods of a shift at a school.",
    )
    async def set_bell_schedule(
        session: AsyncSession, ctx: Context, input: SetBellScheduleInput
    ) -> Any:
        return await lms_service.set_bell_schedule(
            session,
            ctx.principal,
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            shift=input.shift,
            periods=[
                lms_service.PeriodTimes(p.number, _minutes(p.starts_at), _minutes(p.ends_at))
                for p in input.periods
            ],
        )

    @mutation("lms.create_room", RoomPayload, description="Add a room to a school.")
    async def create_room(session: AsyncSession, ctx: Context, input: CreateRoomInput) -> Any:
        return await lms_service.create_room(
            session,
            ctx.principal,
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            name=input.name,
            capacity=input.capacity,
        )

    @mutation(
        "lms.set_timetable_slot",
        TimetableSlotPayload,
        description="Set (or clear) one place in a class's week from a date on; a teacher, "
        "class or room in two places at once is refused (TIMETABLE_CLASH).",
    )
    async def set_timetable_slot(
        session: AsyncSession, ctx: Context, input: SetTimetableSlotInput
    ) -> Any:
        change = lms_service.SlotChange(
            class_group_id=pk_of(input.class_group_id, "ClassGroup", field="classGroupId"),
            weekday=input.weekday,
            period=input.period,
            subgroup=input.subgroup,
            subject_id=optional_pk(input.subject_id, "Subject", field="subjectId"),
            teacher_id=optional_pk(input.teacher_id, "Person", field="teacherId"),
            room_id=optional_pk(input.room_id, "Room", field="roomId"),
            effective_from=input.effective_from,
        )
        return await lms_service.set_timetable_slot(session, ctx.principal, change)

    @mutation(
        "lms.record_class_lesson",
        ClassLessonPayload,
        description="Record a lesson of a timetable slot on a date: topic, replacement, or "
        "cancellation (recording again edits it).",
    )
    async def record_class_lesson(
        session: AsyncSession, ctx: Context, input: RecordClassLessonInput
    ) -> Any:
        record = lms_service.LessonRecord(
            slot_id=pk_of(input.slot_id, "TimetableSlot", field="slotId"),
            on_date=input.date,
            topic=input.topic,
            replacement_teacher_id=optional_pk(
                input.replacement_teacher_id, "Person", field="replacementTeacherId"
            ),
            cancelled=input.cancelled,
            curriculum_unit_id=optional_pk(
                input.curriculum_unit_id, "CurriculumUnit", field="curriculumUnitId"
            ),
        )
        return await lms_service.record_class_lesson(session, ctx.principal, record)

    @mutation(
        "lms.record_attendance",
        ClassLessonPayload,
        description="Take a lesson's register for the whole class, all or nothing.",
    )
    async def record_attendance(
        session: AsyncSession, ctx: Context, input: RecordAttendanceInput
    ) -> Any:
        entries = [
            lms_service.AttendanceEntry(
                pupil_id=pk_of(e.pupil_id, "Person", field=f"entries[{i}].pupilId"),
                status=e.status,
                reason=e.reason,
                minutes_late=e.minutes_late,
            )
            for i, e in enumerate(input.entries)
        ]
        return await lms_service.record_attendance(
            session,
            ctx.principal,
            lesson_id=pk_of(input.lesson_id, "ClassLesson", field="lessonId"),
            entries=entries,
        )

    @mutation(
        "lms.record_marks",
        RecordMarksPayload,
        description="Record a lesson's marks for the class, all or nothing: each in the scheme "
        "of the class's grade; changing a mark needs a reason (history kept).",
    )
    async def record_marks(session: AsyncSession, ctx: Context, input: RecordMarksInput) -> Any:
        entries = [
            lms_service.MarkEntry(
                pupil_id=pk_of(m.pupil_id, "Person", field=f"marks[{i}].pupilId"),
                work=m.work,
                value=m.value,
                criterion=m.criterion,
                comment=m.comment,
            )
            for i, m in enumerate(input.marks)
        ]
        return await lms_service.record_marks(
            session,
            ctx.principal,
            lesson_id=pk_of(input.lesson_id, "ClassLesson", field="lessonId"),
            entries=entries,
            correction_reason=input.correction_reason,
        )

    @mutation(
        "lms.override_result",
        ResultOverridePayload,
        description="Set a pupil's term or year result instead of the computed one, with the "
        "reason (the earlier one kept in history).",
    )
    async def override_result(
        session: AsyncSession, ctx: Context, input: OverrideResultInput
    ) -> Any:
        setting = lms_service.ResultSetting(
            class_group_id=pk_of(input.class_group_id, "ClassGroup", field="classGroupId"),
            subject_id=pk_of(input.subject_id, "Subject", field="subjectId"),
            pupil_id=pk_of(input.pupil_id, "Person", field="pupilId"),
            period=input.term if input.term is not None else 5,
            value=input.value,
            comment=input.comment,
            reason=input.reason,
        )
        return await lms_service.override_result(session, ctx.principal, setting)

    @mutation("lms.assign_homework", HomeworkPayload, description="Set a lesson's homework.")
    async def assign_homework(
        session: AsyncSession, ctx: Context, input: AssignHomeworkInput
    ) -> Any:
        return await lms_service.assign_homework(
            session,
            ctx.principal,
            lesson_id=pk_of(input.lesson_id, "ClassLesson", field="lessonId"),
            text=input.text,
            due_on=input.due_on,
            accepts_submissions=input.accepts_submissions,
        )

    @mutation(
        "lms.submit_homework",
        HomeworkSubmissionPayload,
        description="Hand in homework: text and up to five files (a pupil).",
    )
    async def submit_homework(
        session: AsyncSession, ctx: Context, input: SubmitHomeworkInput
    ) -> Any:
        settings = ctx.guard.settings
        handed = lms_service.Handed(file_store(settings), settings.data_dir / "spool")
        return await lms_service.submit_homework(
            session,
            ctx.principal,
            homework_id=pk_of(input.homework_id, "Homework", field="homeworkId"),
            text=input.text,
            files=[(f, getattr(f, "filename", None) or "") for f in input.files],
            handed=handed,
        )

    @mutation(
        "lms.review_homework",
        HomeworkSubmissionPayload,
        description="Answer handed-in homework: accept it, or return it to redo.",
    )
    async def review_homework(
        session: AsyncSession, ctx: Context, input: ReviewHomeworkInput
    ) -> Any:
        return await lms_service.review_homework(
            session,
            ctx.principal,
            submission_id=pk_of(input.submission_id, "HomeworkSubmission", field="submissionId"),
            feedback=input.feedback,
            accept=input.accept,
        )

    @mutation(
        "lms.report_concern",
        ReportConcernPayload,
        description="Report pressure, bullying or abuse, anonymously (a pupil): it reaches the "
        "counsellors of your district, never your school, and does not name you.",
        anonymous=True,
    )
    async def report_concern(session: AsyncSession, ctx: Context, input: ReportConcernInput) -> Any:
        return await lms_service.report_concern(
            session,
            ctx.principal,
            category=input.category,
            body=input.text,
            pepper=ctx.guard.pepper if ctx.guard else b"",
        )

    @mutation(
        "lms.advance_concern_report",
        ConcernReportPayload,
        description="Move a concern report on (a counsellor of its district or region).",
    )
    async def advance_concern_report(
        session: AsyncSession, ctx: Context, input: AdvanceConcernReportInput
    ) -> Any:
        return await lms_service.advance_concern_report(
            session,
            ctx.principal,
            report_id=pk_of(input.report_id, "ConcernReport", field="reportId"),
            status=input.status,
            note=input.note,
            reply=input.reply,
        )
