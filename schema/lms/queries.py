"""The school LMS's root fields: the school year, subjects and the curriculum plan (public),
classes, timetables and a teacher's day (staff, officers, the class's families), a class's
gradebook, a pupil's diary, and the concern reports (counsellors only)."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from models import BellPeriod as BellPeriodModel
from models import CurriculumPlan
from models import Subject as SubjectModel
from resolvers import lms as lms_service
from resolvers.access import Role
from resolvers.clock import today
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode, RequestError
from schema.common import Connection
from schema.fields import Listing, connection
from schema.lms.concerns import ConcernReceipt, ConcernReport
from schema.lms.enums import ConcernStatus, CurriculumModel
from schema.lms.records import Diary, Gradebook, TeacherLesson
from schema.lms.types import (
    AcademicYear,
    BellPeriod,
    ClassGroup,
    ClassSubject,
    LmsPolicy,
    Subject,
    TimetableSlot,
    clock,
)
from schema.node import query_pk
from schema.permissions import allowed, signed_in

ID = strawberry.ID


def _id(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.input(description="Narrow the class list; every field given must hold.")
class ClassGroupFilter:
    school_id: ID | None = strawberry.field(default=None, description="This school.")
    academic_year_id: ID | None = strawberry.field(default=None, description="This year.")
    grade: int | None = strawberry.field(default=None, description="This grade.")


@strawberry.enum(description="Orders of the class list.")
class ClassGroupOrder(enum.Enum):
    SCHOOL_GRADE_LETTER = "SCHOOL_GRADE_LETTER"


def class_filter(flt: ClassGroupFilter | None) -> lms_service.ClassFilter:
    if flt is None:
        return lms_service.ClassFilter()
    return lms_service.ClassFilter(
        school_id=query_pk(flt.school_id, "Institution") if flt.school_id else None,
        academic_year_id=(
            query_pk(flt.academic_year_id, "AcademicYear") if flt.academic_year_id else None
        ),
        grade=flt.grade,
    )


@strawberry.type
class Query:
    @connection(
        Connection[AcademicYear],
        description="School years, the latest first (public).",
    )
    def academic_years(self, ctx: Context) -> Listing:
        return Listing(
            lms_service.academic_years_query(),
            lms_service.ACADEMIC_YEAR_ORDER,
            AcademicYear.from_row,
        )

    @strawberry.field(
        description="The subjects of the state basic curriculum (public).",
        deprecation_reason="The one register is `subjects`; since 2026-12-03",
    )
    async def school_subjects(self, info: Info) -> list[Subject]:
        rows = await info.context.run(
            lambda s: s.execute(select(*SubjectModel.__table__.c).order_by(SubjectModel.code))
        )
        return [Subject.from_row(r) for r in rows]

    @strawberry.field(description="A grade's subjects and weekly hours in the state plan.")
    async def curriculum_plan(
        self,
        info: Info,
        curriculum_model: Annotated[CurriculumModel, _id("The standard.")],
        grade: Annotated[int, _id("The grade, 1-12.")],
    ) -> list[ClassSubject]:
        stmt = (
            select(CurriculumPlan.subject_id, CurriculumPlan.weekly_hours)
            .where(
                CurriculumPlan.curriculum_model == curriculum_model,
                CurriculumPlan.grade == grade,
            )
            .order_by(CurriculumPlan.subject_id)
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [ClassSubject(subject_pk=r.subject_id, weekly_hours=r.weekly_hours) for r in rows]

    @strawberry.field(description="The LMS policy that holds at a school (or nationally).")
    async def lms_policy(
        self, info: Info, school_id: Annotated[ID | None, _id("The school.")] = None
    ) -> LmsPolicy:
        pk = query_pk(school_id, "Institution") if school_id else None
        policy = await info.context.run(lambda s: lms_service.school_policy(s, pk))
        return LmsPolicy.from_row(policy)

    @connection(
        Connection[ClassGroup],
        description="Classes you may read: staff and officers their schools', families their "
        "children's.",
        permission_classes=[signed_in("Sign in to read classes")],
    )
    def class_groups(
        self,
        ctx: Context,
        filter: ClassGroupFilter | None = None,
        order_by: ClassGroupOrder = ClassGroupOrder.SCHOOL_GRADE_LETTER,
    ) -> Listing:
        stmt = lms_service.class_groups_query(ctx.principal, class_filter(filter))
        return Listing(stmt, lms_service.CLASS_ORDER, ClassGroup.from_row)

    @strawberry.field(
        description="A school's bell schedule for a shift.",
        permission_classes=[signed_in("Sign in to read timetables")],
    )
    async def bell_schedule(
        self,
        info: Info,
        school_id: Annotated[ID, _id("The school.")],
        shift: Annotated[int, _id("The shift.")] = 1,
    ) -> list[BellPeriod] | None:
        stmt = (
            select(*BellPeriodModel.__table__.c)
            .where(
                BellPeriodModel.institution_id == query_pk(school_id, "Institution"),
                BellPeriodModel.shift == shift,
            )
            .order_by(BellPeriodModel.number)
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [BellPeriod.from_row(r) for r in rows]

    @strawberry.field(
        description="The weekly timetable of a class, teacher or room in force on a date "
        "(today by default), of the classes you may read.",
        permission_classes=[signed_in("Sign in to read timetables")],
    )
    async def timetable(
        self,
        info: Info,
        class_group_id: Annotated[ID | None, _id("A class.")] = None,
        teacher_id: Annotated[ID | None, _id("A teacher.")] = None,
        room_id: Annotated[ID | None, _id("A room.")] = None,
        on: Annotated[date | None, _id("The date (today by default).")] = None,
    ) -> list[TimetableSlot] | None:
        if [class_group_id, teacher_id, room_id].count(None) != 2:
            raise RequestError(
                ErrorCode.INVALID_INPUT, "Give one of classGroupId, teacherId, roomId"
            )
        stmt = lms_service.timetable_query(
            info.context.principal,
            class_group_id=query_pk(class_group_id, "ClassGroup") if class_group_id else None,
            teacher_id=query_pk(teacher_id, "Person") if teacher_id else None,
            room_id=query_pk(room_id, "Room") if room_id else None,
            on=on or today(),
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [TimetableSlot.from_row(r) for r in rows]

    @strawberry.field(
        description="A teacher's lessons on a day, with what is recorded in each: yours by "
        "default; a school's administration may ask for one of its teachers.",
        permission_classes=[signed_in("Sign in to read your lessons")],
    )
    async def teacher_day(
        self,
        info: Info,
        on: Annotated[date | None, _id("The day (today by default).")] = None,
        teacher_id: Annotated[ID | None, _id("The teacher (you by default).")] = None,
    ) -> list[TeacherLesson] | None:
        principal = info.context.principal
        pk = query_pk(teacher_id, "Person") if teacher_id else principal.person_id
        if pk is None or (pk != principal.person_id and principal.role == Role.TEACHER):
            return []
        day = on or today()
        stmt = lms_service.teacher_day_query(principal, pk, day)
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [
            TeacherLesson(
                row=r,
                date=day,
                period=r.period,
                starts_at=clock(r.starts_minute),
                ends_at=clock(r.ends_minute),
                subgroup=r.subgroup,
            )
            for r in rows
        ]

    @strawberry.field(
        description="A class's gradebook for a subject and a term: its teachers, the school's "
        "administration and officers read it (null for others).",
        permission_classes=[signed_in("Sign in to read gradebooks")],
    )
    async def gradebook(
        self,
        info: Info,
        class_group_id: Annotated[ID, _id("The class.")],
        subject_id: Annotated[ID, _id("The subject.")],
        term_id: Annotated[ID, _id("The term.")],
    ) -> Gradebook | None:
        journal = await info.context.run(
            lambda s: lms_service.journal(
                s,
                info.context.principal,
                class_group_id=query_pk(class_group_id, "ClassGroup"),
                subject_id=query_pk(subject_id, "Subject"),
                term_id=query_pk(term_id, "Term"),
            )
        )
        return None if journal is None else Gradebook.from_journal(journal)

    @strawberry.field(
        description="A pupil's diary from one day to another (at most 31): for the pupil, their "
        "guardians, and whoever may read the pupil (null for others).",
        permission_classes=[signed_in("Sign in to read the diary")],
    )
    async def diary(
        self,
        info: Info,
        pupil_id: Annotated[ID, _id("The pupil.")],
        start: Annotated[date, strawberry.argument(name="from", description="First day.")],
        end: Annotated[date, strawberry.argument(name="to", description="Last day.")],
    ) -> Diary | None:
        found = await info.context.run(
            lambda s: lms_service.diary(
                s,
                info.context.principal,
                pupil_id=query_pk(pupil_id, "Person"),
                start=start,
                end=end,
            )
        )
        return None if found is None else Diary.from_diary(found)

    @connection(
        Connection[ConcernReport],
        description="Concern reports routed to your districts or regions (counsellors only).",
        permission_classes=[allowed(lms_service.is_counsellor, "Only counsellors read reports")],
    )
    def concern_reports(self, ctx: Context, status: ConcernStatus | None = None) -> Listing:
        return Listing(
            lms_service.concern_reports_query(ctx.principal, status),
            lms_service.CONCERN_ORDER,
            ConcernReport.from_row,
        )

    @strawberry.field(description="Your concern report, by the receipt you were given (public).")
    async def concern_report_status(
        self, info: Info, receipt: Annotated[str, _id("The receipt, CR-...")]
    ) -> ConcernReceipt | None:
        found = await info.context.run(lambda s: lms_service.report_by_receipt(s, receipt))
        if found is None:
            return None
        return ConcernReceipt(
            category=found.category,
            status=found.status,
            received_on=found.received_on,
            reply=found.reply,
        )
