"""What is recorded day by day in the graph: lessons with their register, marks and homework;
handed-in work; a class's gradebook for a term; a pupil's diary; a teacher's day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import lms as lms_service
from resolvers.context import Info
from resolvers.files import file_link
from resolvers.lms.loaders import (
    AbsencesByLessonLoader,
    FilesBySubmissionLoader,
    HomeworkByIdLoader,
    HomeworkByLessonLoader,
    LessonByIdLoader,
    MarkHistoryByLessonLoader,
    MarksByLessonLoader,
    PupilsByLessonLoader,
    SubmissionByIdLoader,
    SubmissionsByHomeworkLoader,
    TimetableSlotByIdLoader,
)
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.lms.enums import AssessmentScheme, AttendanceStatus, ClassLessonStatus, MarkWork
from schema.lms.enums import SubmissionStatus as SubmissionStatusT
from schema.lms.types import (
    ClassGroup,
    Room,
    Subject,
    Term,
    TimetableSlot,
    class_of,
    clock,
    person_of,
    room_of,
    subject_of,
)
from schema.node import NODE_RESOLVERS, fetched_by, loaded
from schema.people import Person

if TYPE_CHECKING:
    from schema.content.types import CurriculumUnit

# Learning content's type, named lazily: content stands above the LMS in the schema's layers.
CurriculumUnitT = Annotated["CurriculumUnit", strawberry.lazy("schema.content.types")]


@strawberry.type(description="A mark (or descriptive feedback) a pupil got, under its scheme.")
class Mark:
    pupil_pk: strawberry.Private[int]
    work: MarkWork = strawberry.field(description="What it is for.")
    scheme: AssessmentScheme = strawberry.field(description="The scheme it was given under.")
    value: int | None = strawberry.field(description="The mark (none for descriptive feedback).")
    criterion: str | None = strawberry.field(description="The criterion (criteria-based).")
    comment: str | None = strawberry.field(description="The teacher's comment or feedback.")
    date: date = strawberry.field(description="The lesson's date.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")
    correction_reason: str | None = strawberry.field(
        description="Why it corrected an earlier mark (null for a first mark)."
    )
    superseded_at: datetime | None = strawberry.field(
        description="When a correction replaced it (null while current)."
    )

    @classmethod
    def from_row(cls, row: Any) -> Mark:
        return cls(
            pupil_pk=row.pupil_id,
            work=row.work,
            scheme=row.scheme,
            value=row.value,
            criterion=row.criterion,
            comment=row.comment,
            date=row.on_date,
            recorded_at=row.recorded_at,
            correction_reason=row.correction_reason,
            superseded_at=row.superseded_at,
        )

    @strawberry.field(description="The pupil (null if you may not read them).")
    async def pupil(self, info: Info) -> Person | None:
        return await person_of(info, self.pupil_pk)


@strawberry.type(description="A pupil missing a lesson, late for it, or excused.")
class Absence:
    pupil_pk: strawberry.Private[int]
    status: AttendanceStatus = strawberry.field(description="Absent, late or excused.")
    reason: str | None = strawberry.field(description="Why (required when excused).")
    minutes_late: int | None = strawberry.field(description="Minutes late, if late.")

    @classmethod
    def from_row(cls, row: Any) -> Absence:
        return cls(
            pupil_pk=row.pupil_id,
            status=row.status,
            reason=row.reason,
            minutes_late=row.minutes_late,
        )

    @strawberry.field(description="The pupil (null if you may not read them).")
    async def pupil(self, info: Info) -> Person | None:
        return await person_of(info, self.pupil_pk)


@fetched_by(LessonByIdLoader)
@strawberry.type(description="A lesson given (or cancelled) on a date: a slot of the timetable.")
class ClassLesson(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    date: date = strawberry.field(description="The day.")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")
    subgroup: int = strawberry.field(description="0: the whole class; 1 or 2: a half.")
    topic: str | None = strawberry.field(description="The lesson's topic.")
    status: ClassLessonStatus = strawberry.field(description="Held or cancelled.")
    attendance_taken_at: datetime | None = strawberry.field(
        description="When the register was taken (null: not yet)."
    )

    @classmethod
    def from_row(cls, row: Any) -> ClassLesson:
        return cls(
            id=strawberry.ID(encode_id("ClassLesson", row.id)),
            pk=row.id,
            row=row,
            date=row.on_date,
            starts_at=clock(row.starts_minute),
            ends_at=clock(row.ends_minute),
            subgroup=row.subgroup,
            topic=row.topic,
            status=row.status,
            attendance_taken_at=row.attendance_taken_at,
        )

    @strawberry.field(description="The class.")
    async def class_group(self, info: Info) -> ClassGroup | None:
        return await class_of(info, self.row.class_group_id)

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.row.subject_id)

    @strawberry.field(
        description="The curriculum topic it taught, when its teacher named one: what the "
        "feed of the class's pupils follows."
    )
    async def curriculum_unit(self, info: Info) -> CurriculumUnitT | None:
        pk = self.row.curriculum_unit_id
        if pk is None:
            return None
        unit: CurriculumUnit | None = await NODE_RESOLVERS["CurriculumUnit"](info.context, pk)
        return unit

    @strawberry.field(description="Who gave it (null if you may not read them).")
    async def teacher(self, info: Info) -> Person | None:
        return await person_of(info, self.row.teacher_id)

    @strawberry.field(description="The slot's own teacher, when someone replaced them.")
    async def replaced_teacher(self, info: Info) -> Person | None:
        return await person_of(info, self.row.replaced_teacher_id)

    @strawberry.field(description="The timetable slot it belongs to.")
    async def slot(self, info: Info) -> TimetableSlot | None:
        loader = TimetableSlotByIdLoader(info.context)
        return await loaded(loader, self.row.slot_id, TimetableSlot.from_row)

    @strawberry.field(
        description="The register: the pupils the lesson is for, those you may read. The "
        "class's pupils on its date; for a lesson of a half (subgroup 1 or 2), the pupils of "
        "that half of its subject and those in no half of it (and anyone with a mark or an "
        "absence recorded in it)."
    )
    async def pupils(self, info: Info) -> list[Person]:
        rows = await PupilsByLessonLoader(info.context).load(self.pk)
        people = await PersonByIdLoader(info.context).load_many([r.pupil_id for r in rows])
        return [Person.from_row(p) for p in people if p is not None]

    @strawberry.field(description="Pupils absent, late or excused (the others were present).")
    async def absences(self, info: Info) -> list[Absence]:
        rows = await AbsencesByLessonLoader(info.context).load(self.pk)
        return [Absence.from_row(r) for r in rows]

    @strawberry.field(description="The marks given in it (with `history`: corrected ones too).")
    async def marks(self, info: Info, history: bool = False) -> list[Mark]:
        loader = MarkHistoryByLessonLoader if history else MarksByLessonLoader
        rows = await loader(info.context).load(self.pk)
        return [Mark.from_row(r) for r in rows]

    @strawberry.field(description="The homework it set, if any.")
    async def homework(self, info: Info) -> Homework | None:
        rows = await HomeworkByLessonLoader(info.context).load(self.pk)
        return Homework.from_row(rows[0]) if rows else None


@strawberry.type(description="A file handed in, with a short-lived download link.")
class SubmittedFile:
    name: str = strawberry.field(description="The name the pupil gave it.")
    sha256: str = strawberry.field(description="The SHA-256 of its content.")
    size_bytes: int = strawberry.field(description="Its size.")
    media_type: str = strawberry.field(description="Its type, as its bytes show.")
    url: str = strawberry.field(description="A signed link to download it (valid for an hour).")


@fetched_by(SubmissionByIdLoader)
@strawberry.type(description="A pupil's work for a homework, and the teacher's feedback.")
class HomeworkSubmission(Node):
    pk: strawberry.Private[int]
    pupil_pk: strawberry.Private[int]
    text: str | None = strawberry.field(description="The answer's text.")
    status: SubmissionStatusT = strawberry.field(description="Waiting, returned or accepted.")
    submitted_at: datetime = strawberry.field(description="When it was (last) handed in.")
    feedback: str | None = strawberry.field(description="The teacher's feedback.")
    feedback_at: datetime | None = strawberry.field(description="When the teacher answered.")

    @classmethod
    def from_row(cls, row: Any) -> HomeworkSubmission:
        return cls(
            id=strawberry.ID(encode_id("HomeworkSubmission", row.id)),
            pk=row.id,
            pupil_pk=row.pupil_id,
            text=row.body,
            status=row.status,
            submitted_at=row.submitted_at,
            feedback=row.feedback,
            feedback_at=row.feedback_at,
        )

    @strawberry.field(description="The pupil.")
    async def pupil(self, info: Info) -> Person | None:
        return await person_of(info, self.pupil_pk)

    @strawberry.field(description="The files handed in.")
    async def files(self, info: Info) -> list[SubmittedFile]:
        rows = await FilesBySubmissionLoader(info.context).load(self.pk)
        state = info.context.request.app.state
        ttl = state.settings.file_link_ttl_seconds
        return [
            SubmittedFile(
                name=r.name,
                sha256=r.sha256,
                size_bytes=r.size_bytes,
                media_type=r.media_type,
                url=file_link(
                    state.keyring, r.sha256, name=r.name, media_type=r.media_type, ttl_seconds=ttl
                ),
            )
            for r in rows
        ]


@fetched_by(HomeworkByIdLoader)
@strawberry.type(description="Homework a lesson set.")
class Homework(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    text: str = strawberry.field(description="What to do.")
    assigned_on: date = strawberry.field(description="The lesson's date.")
    due_on: date = strawberry.field(description="When it is due.")
    accepts_submissions: bool = strawberry.field(description="Handed in through the hub.")

    @classmethod
    def from_row(cls, row: Any) -> Homework:
        return cls(
            id=strawberry.ID(encode_id("Homework", row.id)),
            pk=row.id,
            row=row,
            text=row.body,
            assigned_on=row.assigned_on,
            due_on=row.due_on,
            accepts_submissions=row.accepts_submissions,
        )

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.row.subject_id)

    @strawberry.field(description="The lesson that set it.")
    async def lesson(self, info: Info) -> ClassLesson | None:
        return await loaded(
            LessonByIdLoader(info.context), self.row.lesson_id, ClassLesson.from_row
        )

    @strawberry.field(description="Work handed in, by the pupils you may read.")
    async def submissions(self, info: Info) -> list[HomeworkSubmission]:
        rows = await SubmissionsByHomeworkLoader(info.context).load(self.pk)
        return [HomeworkSubmission.from_row(r) for r in rows]


# --- the gradebook -------------------------------------------------------------------------


@strawberry.type(description="A term result the teacher set instead of the computed one.")
class ResultOverride:
    value: int | None = strawberry.field(description="The result.")
    comment: str | None = strawberry.field(description="Its text (descriptive grades).")
    computed_value: str | None = strawberry.field(description="What the rule gave then.")
    reason: str = strawberry.field(description="Why the teacher set it.")
    decided_by: str = strawberry.field(description="Who set it.")
    decided_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: Any) -> ResultOverride:
        return cls(
            value=row.value,
            comment=row.comment,
            computed_value=row.computed_value,
            reason=row.reason,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )


@strawberry.type(description="A pupil's line in a gradebook.")
class GradebookRow:
    pupil_pk: strawberry.Private[int]
    in_class_since: date = strawberry.field(description="In the class since.")
    left_class_on: date | None = strawberry.field(description="Left the class on (if so).")
    marks: list[Mark] = strawberry.field(description="The term's current marks.")
    absences: list[Absence] = strawberry.field(description="The term's absences in the subject.")
    computed_result: int | None = strawberry.field(
        description="The term result by the declared rule (null: too few marks, or none due)."
    )
    override: ResultOverride | None = strawberry.field(
        description="The result the teacher set instead, if any."
    )

    @strawberry.field(description="The result that counts: the teacher's, else the computed.")
    def result(self) -> int | None:
        return self.override.value if self.override is not None else self.computed_result

    @strawberry.field(description="The pupil (null if you may no longer read them).")
    async def pupil(self, info: Info) -> Person | None:
        return await person_of(info, self.pupil_pk)


@strawberry.type(description="A class's gradebook for a subject and a term.")
class Gradebook:
    head: strawberry.Private[Any]
    class_pk: strawberry.Private[int]
    subject_pk: strawberry.Private[int]
    term: Term = strawberry.field(description="The term.")
    scheme: AssessmentScheme = strawberry.field(description="The grade's assessment scheme.")
    min_value: int | None = strawberry.field(description="The scheme's lowest mark.")
    max_value: int | None = strawberry.field(description="The scheme's highest mark.")
    result_rule: str = strawberry.field(description="The rule that computes term results.")
    lessons: list[ClassLesson] = strawberry.field(description="The term's lessons, in order.")
    rows: list[GradebookRow] = strawberry.field(description="One line per pupil.")

    @classmethod
    def from_journal(cls, journal: lms_service.Journal) -> Gradebook:
        head = journal.term
        term = Term(
            id=strawberry.ID(encode_id("Term", head.term_id)),
            pk=head.term_id,
            year_pk=head.academic_year_id,
            number=head.term_number,
            starts_on=head.term_starts_on,
            ends_on=head.term_ends_on,
        )
        return cls(
            head=head,
            class_pk=head.id,
            subject_pk=journal.subject_id,
            term=term,
            scheme=journal.scheme.scheme,
            min_value=journal.scheme.min_value,
            max_value=journal.scheme.max_value,
            result_rule=journal.rule,
            lessons=[ClassLesson.from_row(r) for r in journal.lessons],
            rows=[
                GradebookRow(
                    pupil_pk=row.pupil_id,
                    in_class_since=row.since,
                    left_class_on=row.until,
                    marks=[Mark.from_row(m) for m in row.marks],
                    absences=[Absence.from_row(a) for a in row.absences],
                    computed_result=row.computed,
                    override=ResultOverride.from_row(row.override) if row.override else None,
                )
                for row in journal.rows
            ],
        )

    # The gradebook's first statement read the class and the subject, under the gradebook's
    # rule (stricter than the class's): no loader needed.
    @strawberry.field(description="The class.")
    def class_group(self) -> ClassGroup | None:
        return ClassGroup.from_row(self.head)

    @strawberry.field(description="The subject.")
    def subject(self) -> Subject:
        head = self.head
        return Subject(
            id=strawberry.ID(encode_id("Subject", self.subject_pk)),
            pk=self.subject_pk,
            code=head.subject_code,
            name_ky=head.subject_name_ky,
            name_ru=head.subject_name_ru,
            name_en=head.subject_name_en,
        )


# --- the diary -----------------------------------------------------------------------------


@strawberry.type(description="Homework as the diary shows it.")
class DiaryHomework:
    text: str = strawberry.field(description="What to do.")
    due_on: date = strawberry.field(description="When it is due.")
    homework_id: strawberry.ID = strawberry.field(description="The homework (to hand it in).")


@strawberry.type(description="A lesson in a pupil's diary.")
class DiaryLesson:
    entry: strawberry.Private[Any]
    period: int | None = strawberry.field(description="The period (null: an extra lesson).")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")
    subgroup: int = strawberry.field(description="0: the whole class; 1 or 2: a half.")
    topic: str | None = strawberry.field(description="The topic, once recorded.")
    status: ClassLessonStatus | None = strawberry.field(
        description="Held or cancelled, once recorded (null: not yet)."
    )
    homework: DiaryHomework | None = strawberry.field(description="The homework it set.")
    marks: list[Mark] = strawberry.field(description="The pupil's marks in it.")
    attendance: AttendanceStatus | None = strawberry.field(
        description="PRESENT once the register is taken, else the absence (null: not taken)."
    )
    attendance_reason: str | None = strawberry.field(description="Why absent or excused.")

    @classmethod
    def from_entry(cls, entry: lms_service.DiaryLesson) -> DiaryLesson:
        lesson, absence = entry.lesson, entry.attendance
        attendance = None
        if absence is not None:
            attendance = absence.status
        elif lesson is not None and lesson.register_taken:
            attendance = AttendanceStatus.PRESENT
        hw = entry.homework
        return cls(
            entry=entry,
            period=entry.period,
            starts_at=clock(entry.starts_minute),
            ends_at=clock(entry.ends_minute),
            subgroup=entry.subgroup,
            topic=lesson.topic if lesson is not None else None,
            status=lesson.status if lesson is not None else None,
            homework=DiaryHomework(
                text=hw.body,
                due_on=hw.due_on,
                homework_id=strawberry.ID(encode_id("Homework", hw.id)),
            )
            if hw is not None
            else None,
            marks=[Mark.from_row(m) for m in entry.marks],
            attendance=attendance,
            attendance_reason=absence.reason if absence is not None else None,
        )

    # The diary's statement brings the names it shows: no loader per lesson.
    @strawberry.field(description="The subject.")
    def subject(self) -> Subject:
        found = self.entry.subject
        assert found is not None, "every lesson's subject is in the diary's statement"
        return Subject.from_row(found)

    @strawberry.field(description="Who teaches it (or gave it): their name.")
    def teacher_name(self) -> str | None:
        name: str | None = self.entry.teacher_name
        return name

    @strawberry.field(description="The room.")
    def room(self) -> Room | None:
        found = self.entry.room
        return None if found is None else Room.from_row(found)


@strawberry.type(description="A day of a pupil's diary.")
class DiaryDay:
    date: date = strawberry.field(description="The day.")
    day_off: str | None = strawberry.field(
        description="Why there are no lessons: a public holiday's name, or 'holidays'."
    )
    lessons: list[DiaryLesson] = strawberry.field(description="The day's lessons, in order.")


@strawberry.type(description="A pupil's electronic diary over some days (S4).")
class Diary:
    pupil_pk: strawberry.Private[int]
    start: date = strawberry.field(name="from", description="First day.")
    end: date = strawberry.field(name="to", description="Last day.")
    days: list[DiaryDay] = strawberry.field(description="Day by day.")

    @classmethod
    def from_diary(cls, diary: lms_service.Diary) -> Diary:
        return cls(
            pupil_pk=diary.pupil_id,
            start=diary.start,
            end=diary.end,
            days=[
                DiaryDay(
                    date=d.on_date,
                    day_off=d.day_off,
                    lessons=[DiaryLesson.from_entry(e) for e in d.lessons],
                )
                for d in diary.days
            ],
        )

    @strawberry.field(description="The pupil.")
    async def pupil(self, info: Info) -> Person | None:
        return await person_of(info, self.pupil_pk)


# --- a teacher's day -----------------------------------------------------------------------


@strawberry.type(description="A lesson in a teacher's day: the slot, and what was recorded.")
class TeacherLesson:
    row: strawberry.Private[Any]
    date: date = strawberry.field(description="The day.")
    period: int = strawberry.field(description="The period.")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")
    subgroup: int = strawberry.field(description="0: the whole class; 1 or 2: a half.")

    @strawberry.field(description="The timetable slot (record the lesson with its id).")
    async def slot(self, info: Info) -> TimetableSlot | None:
        loader = TimetableSlotByIdLoader(info.context)
        return await loaded(loader, self.row.slot_id, TimetableSlot.from_row)

    @strawberry.field(description="The class.")
    async def class_group(self, info: Info) -> ClassGroup | None:
        return await class_of(info, self.row.class_group_id)

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.row.subject_id)

    @strawberry.field(description="The room.")
    async def room(self, info: Info) -> Room | None:
        return await room_of(info, self.row.room_id)

    @strawberry.field(description="The lesson, once recorded (null: not yet).")
    async def lesson(self, info: Info) -> ClassLesson | None:
        return await loaded(
            LessonByIdLoader(info.context), self.row.lesson_id, ClassLesson.from_row
        )
