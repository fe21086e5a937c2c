"""The school LMS's structure in the graph: academic years and terms, subjects, classes with
their subjects, pupils and teachers, rooms and the weekly timetable."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import strawberry

from resolvers import lms as lms_service
from resolvers.clock import today
from resolvers.context import Info
from resolvers.lms.loaders import (
    AcademicYearByIdLoader,
    ClassGroupByIdLoader,
    ClassSubjectsByClassLoader,
    CurrentMembersByClassLoader,
    HalvesByClassLoader,
    RoomByIdLoader,
    SubjectByIdLoader,
    TeachingAssignmentsByClassLoader,
    TermByIdLoader,
    TermsByYearLoader,
    TimetableSlotByIdLoader,
)
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.institutions import Institution, Language, institution_of
from schema.lms.enums import CurriculumModel, YearClosureStatus
from schema.node import fetched_by, loaded
from schema.people import Person


def clock(minutes: int) -> time:
    """A time of day from minutes after midnight (a period ending at midnight: 23:59)."""
    return time(min(minutes, 1439) // 60, min(minutes, 1439) % 60)


@fetched_by(TermByIdLoader)
@strawberry.type(description="A quarter of the school year; holidays lie between terms (S3).")
class Term(Node):
    pk: strawberry.Private[int]
    year_pk: strawberry.Private[int]
    number: int = strawberry.field(description="1 to 4.")
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day.")

    @classmethod
    def from_row(cls, row: Any) -> Term:
        return cls(
            id=strawberry.ID(encode_id("Term", row.id)),
            pk=row.id,
            year_pk=row.academic_year_id,
            number=row.number,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
        )

    @strawberry.field(description="The year the term belongs to.")
    async def academic_year(self, info: Info) -> AcademicYear:
        row = await AcademicYearByIdLoader(info.context).load(self.year_pk)
        return AcademicYear.from_row(row)


@fetched_by(AcademicYearByIdLoader)
@strawberry.type(description="A school year, its dates set by the ministry (S3).")
class AcademicYear(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="E.g. 2026-2027.")
    start_year: int = strawberry.field(description="The calendar year it begins in.")
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day.")

    @classmethod
    def from_row(cls, row: Any) -> AcademicYear:
        return cls(
            id=strawberry.ID(encode_id("AcademicYear", row.id)),
            pk=row.id,
            name=row.name,
            start_year=row.start_year,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
        )

    @strawberry.field(description="The four terms, in order.")
    async def terms(self, info: Info) -> list[Term]:
        rows = await TermsByYearLoader(info.context).load(self.pk)
        return [Term.from_row(r) for r in rows]


async def year_of(info: Info, pk: int) -> AcademicYear:
    return AcademicYear.from_row(await AcademicYearByIdLoader(info.context).load(pk))


@fetched_by(SubjectByIdLoader)
@strawberry.type(
    description="A subject of the state basic curriculum: one register for learning content"
    " (curriculum units, lessons) and the LMS (plans, classes, timetable, marks)."
)
class Subject(Node):
    pk: strawberry.Private[int]
    code: str = strawberry.field(description="Stable code, e.g. mathematics.")
    name_ky: str = strawberry.field(description="Name in Kyrgyz.")
    name_ru: str = strawberry.field(description="Name in Russian.")
    name_en: str = strawberry.field(description="Name in English.")

    @classmethod
    def from_row(cls, row: Any) -> Subject:
        return cls(
            id=strawberry.ID(encode_id("Subject", row.id)),
            pk=row.id,
            code=row.code,
            name_ky=row.name_ky,
            name_ru=row.name_ru,
            name_en=row.name_en,
        )


async def subject_of(info: Info, pk: int) -> Subject:
    return Subject.from_row(await SubjectByIdLoader(info.context).load(pk))


async def person_of(info: Info, pk: int | None) -> Person | None:
    return await loaded(PersonByIdLoader(info.context), pk, Person.from_row)


@strawberry.type(description="A subject a class learns and its weekly hours in the plan.")
class ClassSubject:
    subject_pk: strawberry.Private[int]
    weekly_hours: Decimal = strawberry.field(description="Lessons a week in the plan.")

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_pk)


@strawberry.type(description="A half of a class in a subject the timetable teaches in halves.")
class ClassHalf:
    subject_pk: strawberry.Private[int]
    pupil_pks: strawberry.Private[list[int]]
    subgroup: int = strawberry.field(description="1 or 2: the timetable slots' subgroup.")

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_pk)

    @strawberry.field(description="Its pupils today, those you may read.")
    async def pupils(self, info: Info) -> list[Person]:
        people = await PersonByIdLoader(info.context).load_many(self.pupil_pks)
        return [Person.from_row(p) for p in people if p is not None]


@strawberry.type(description="A subject's weekly hours: in the plan and in the timetable.")
class SubjectHours:
    subject_pk: strawberry.Private[int]
    planned: Decimal = strawberry.field(description="Lessons a week the plan gives it.")
    scheduled: int = strawberry.field(description="Lessons a week the timetable gives it.")

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_pk)

    @strawberry.field(description="Scheduled minus planned (negative: lessons missing).")
    def difference(self) -> Decimal:
        return Decimal(self.scheduled) - self.planned


@strawberry.type(description="A teacher teaching a subject to a class (issue 15).")
class TeachingAssignment:
    subject_pk: strawberry.Private[int]
    teacher_pk: strawberry.Private[int]
    since: date = strawberry.field(description="Since when.")

    @classmethod
    def from_row(cls, row: Any) -> TeachingAssignment:
        return cls(subject_pk=row.subject_id, teacher_pk=row.teacher_id, since=row.since)

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.subject_pk)

    @strawberry.field(description="The teacher (null if you may not read them).")
    async def teacher(self, info: Info) -> Person | None:
        return await person_of(info, self.teacher_pk)


@fetched_by(ClassGroupByIdLoader)
@strawberry.type(description="A class of a school in one academic year, e.g. 5А.")
class ClassGroup(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    name: str = strawberry.field(description="Grade and letter, e.g. 5А.")
    grade: int = strawberry.field(description="Grade 1-12.")
    letter: str = strawberry.field(description="The class's letter.")
    language: Language = strawberry.field(description="Language of instruction.")
    shift: int = strawberry.field(description="The shift it learns in (1, 2 or 3).")
    curriculum_model: CurriculumModel = strawberry.field(description="The standard it follows.")
    capacity: int = strawberry.field(description="The most pupils it may hold.")
    pupil_count: int = strawberry.field(description="Pupils in it now.")

    @classmethod
    def from_row(cls, row: Any) -> ClassGroup:
        return cls(
            id=strawberry.ID(encode_id("ClassGroup", row.id)),
            pk=row.id,
            row=row,
            name=lms_service.class_name(row.grade, row.letter),
            grade=row.grade,
            letter=row.letter,
            language=row.language,
            shift=row.shift,
            curriculum_model=row.curriculum_model,
            capacity=row.capacity,
            pupil_count=row.pupil_count,
        )

    @strawberry.field(description="The school.")
    async def school(self, info: Info) -> Institution:
        return await institution_of(info, self.row.institution_id)

    @strawberry.field(description="The academic year.")
    async def academic_year(self, info: Info) -> AcademicYear:
        return await year_of(info, self.row.academic_year_id)

    @strawberry.field(description="The home-room teacher (null if none, or unreadable).")
    async def homeroom_teacher(self, info: Info) -> Person | None:
        return await person_of(info, self.row.homeroom_teacher_id)

    @strawberry.field(description="The class of the year before that this one continues.")
    async def previous_class(self, info: Info) -> ClassGroup | None:
        loader = ClassGroupByIdLoader(info.context)
        return await loaded(loader, self.row.previous_id, ClassGroup.from_row)

    @strawberry.field(description="The subjects it learns, with weekly hours in the plan.")
    async def subjects(self, info: Info) -> list[ClassSubject]:
        rows = await ClassSubjectsByClassLoader(info.context).load(self.pk)
        return [ClassSubject(subject_pk=r.subject_id, weekly_hours=r.weekly_hours) for r in rows]

    @strawberry.field(description="Its pupils today, those you may read.")
    async def pupils(self, info: Info) -> list[Person]:
        rows = await CurrentMembersByClassLoader(info.context).load(self.pk)
        people = await PersonByIdLoader(info.context).load_many([r.pupil_id for r in rows])
        return [Person.from_row(p) for p in people if p is not None]

    @strawberry.field(
        description="Its halves in the subjects it learns in halves: which pupils are in which "
        "(a pupil in none learns the subject with the whole class)."
    )
    async def halves(self, info: Info) -> list[ClassHalf]:
        rows = await HalvesByClassLoader(info.context).load(self.pk)
        halves: dict[tuple[int, int], list[int]] = {}
        for r in rows:
            halves.setdefault((r.subject_id, r.subgroup), []).append(r.pupil_id)
        return [
            ClassHalf(subject_pk=subject, subgroup=subgroup, pupil_pks=pupils)
            for (subject, subgroup), pupils in halves.items()
        ]

    @strawberry.field(description="Who teaches it what.")
    async def teachers(self, info: Info) -> list[TeachingAssignment]:
        rows = await TeachingAssignmentsByClassLoader(info.context).load(self.pk)
        return [TeachingAssignment.from_row(r) for r in rows]

    @strawberry.field(description="Weekly hours per subject, timetable against plan, on a date.")
    async def weekly_hours(self, info: Info, on: date | None = None) -> list[SubjectHours]:
        rows = await info.context.run(
            lambda s: lms_service.hours_against_plan(s, self.pk, on or today())
        )
        return [
            SubjectHours(subject_pk=r.subject_id, planned=r.planned, scheduled=r.scheduled)
            for r in rows
        ]


async def class_of(info: Info, pk: int) -> ClassGroup | None:
    return await loaded(ClassGroupByIdLoader(info.context), pk, ClassGroup.from_row)


@fetched_by(RoomByIdLoader)
@strawberry.type(description="A room of a school.")
class Room(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="E.g. 204 or Спортзал.")
    capacity: int | None = strawberry.field(description="Seats, if known.")

    @classmethod
    def from_row(cls, row: Any) -> Room:
        return cls(
            id=strawberry.ID(encode_id("Room", row.id)),
            pk=row.id,
            name=row.name,
            capacity=row.capacity,
        )


async def room_of(info: Info, pk: int | None) -> Room | None:
    return await loaded(RoomByIdLoader(info.context), pk, Room.from_row)


@fetched_by(TimetableSlotByIdLoader)
@strawberry.type(description="A weekly lesson of a class: subject, teacher, room, day, period.")
class TimetableSlot(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    weekday: int = strawberry.field(description="1 (Monday) to 6 (Saturday).")
    period: int = strawberry.field(description="The period of the class's shift.")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")
    subgroup: int = strawberry.field(description="0: the whole class; 1 or 2: a half.")
    valid_from: date = strawberry.field(description="In force from.")
    valid_to: date | None = strawberry.field(description="In force until (exclusive).")

    @classmethod
    def from_row(cls, row: Any) -> TimetableSlot:
        return cls(
            id=strawberry.ID(encode_id("TimetableSlot", row.id)),
            pk=row.id,
            row=row,
            weekday=row.weekday,
            period=row.period,
            starts_at=clock(row.starts_minute),
            ends_at=clock(row.ends_minute),
            subgroup=row.subgroup,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )

    @strawberry.field(description="The class.")
    async def class_group(self, info: Info) -> ClassGroup | None:
        return await class_of(info, self.row.class_group_id)

    @strawberry.field(description="The subject.")
    async def subject(self, info: Info) -> Subject:
        return await subject_of(info, self.row.subject_id)

    @strawberry.field(description="The teacher (null if you may not read them).")
    async def teacher(self, info: Info) -> Person | None:
        return await person_of(info, self.row.teacher_id)

    @strawberry.field(description="The room, if set.")
    async def room(self, info: Info) -> Room | None:
        return await room_of(info, self.row.room_id)


@strawberry.type(description="A period of a shift in a school's bell schedule.")
class BellPeriod:
    shift: int = strawberry.field(description="The shift.")
    number: int = strawberry.field(description="The period's number.")
    starts_at: time = strawberry.field(description="When it starts.")
    ends_at: time = strawberry.field(description="When it ends.")

    @classmethod
    def from_row(cls, row: Any) -> BellPeriod:
        return cls(
            shift=row.shift,
            number=row.number,
            starts_at=clock(row.starts_minute),
            ends_at=clock(row.ends_minute),
        )


@strawberry.type(description="A school's year-end closure (promotion).")
class YearClosure:
    school_pk: strawberry.Private[int]
    status: YearClosureStatus = strawberry.field(description="Pending or done.")
    promoted: int = strawberry.field(description="Pupils moved up a grade.")
    retained: int = strawberry.field(description="Pupils repeating their grade.")
    graduated: int = strawberry.field(description="Pupils who finished school.")
    left_school: int = strawberry.field(description="Pupils who completed a level and left.")
    classes_continued: int = strawberry.field(description="Classes carried into next year.")
    done_at: datetime | None = strawberry.field(description="When it was done.")

    @classmethod
    def from_row(cls, row: Any) -> YearClosure:
        return cls(
            school_pk=row.institution_id,
            status=row.status,
            promoted=row.promoted,
            retained=row.retained,
            graduated=row.graduated,
            left_school=row.left_school,
            classes_continued=row.classes_continued,
            done_at=row.done_at,
        )

    @strawberry.field(description="The school.")
    async def school(self, info: Info) -> Institution:
        return await institution_of(info, self.school_pk)


@strawberry.type(description="The LMS policy that holds at a school (or nationally).")
class LmsPolicy:
    max_class_size: int = strawberry.field(description="The most pupils a class may hold.")
    basic_only: bool = strawberry.field(description="The school teaches grades 1-9 only.")
    twelve_year_from: int = strawberry.field(
        description="The first grade-1 intake under the 12-year standard."
    )
    school_days: int = strawberry.field(description="School days a week (5 or 6).")
    min_marks_for_result: int = strawberry.field(
        description="Marks a pupil needs in a term for a computed result."
    )

    @classmethod
    def from_row(cls, row: Any) -> LmsPolicy:
        return cls(
            max_class_size=row.max_class_size,
            basic_only=row.basic_only,
            twelve_year_from=row.twelve_year_from,
            school_days=row.school_days,
            min_marks_for_result=row.min_marks_for_result,
        )
