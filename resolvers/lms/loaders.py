"""The school LMS's DataLoaders, each restricted by the row rule of what it loads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_

from models import (
    AcademicYear,
    Attendance,
    ClassGroup,
    ClassLesson,
    ClassMembership,
    ClassMembershipHalf,
    ClassSubject,
    ConcernReport,
    ConcernReportEvent,
    FileObject,
    Homework,
    HomeworkFile,
    HomeworkSubmission,
    Mark,
    Room,
    Subject,
    TeachingAssignment,
    Term,
    TimetableSlot,
)
from resolvers.lms.halves import in_other_half
from resolvers.lms.rules import class_readable, concern_readable, of_readable_class
from resolvers.loaders import ById, ByParent
from resolvers.people.rules import person_readable


class AcademicYearByIdLoader(ById):
    """Academic years are public."""

    columns = tuple(AcademicYear.__table__.c)
    key = AcademicYear.id


class TermByIdLoader(ById):
    columns = tuple(Term.__table__.c)
    key = Term.id


class TermsByYearLoader(ByParent):
    columns = tuple(Term.__table__.c)
    parent = Term.academic_year_id
    order_by = (Term.number,)


class SubjectByIdLoader(ById):
    """Subjects of the state curriculum are public."""

    columns = tuple(Subject.__table__.c)
    key = Subject.id


class ClassGroupByIdLoader(ById):
    columns = tuple(ClassGroup.__table__.c)
    key = ClassGroup.id

    def rule(self) -> ColumnElement[bool]:
        return class_readable(self.principal)


class ClassSubjectsByClassLoader(ByParent):
    columns = tuple(ClassSubject.__table__.c)
    parent = ClassSubject.class_group_id
    order_by = (ClassSubject.subject_id,)


class CurrentMembersByClassLoader(ByParent):
    """A class's pupils today, those the caller may read (a guardian sees their own child)."""

    columns = tuple(ClassMembership.__table__.c)
    parent = ClassMembership.class_group_id
    order_by = (ClassMembership.pupil_id,)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (
            ClassMembership.until.is_(None),
            person_readable(self.principal, ClassMembership.pupil_id),
        )


class HalvesByClassLoader(ByParent):
    """Which half of a class its pupils today learn a subject in (those the caller may
    read), per subject and half."""

    columns = (
        ClassMembershipHalf.class_group_id,
        ClassMembershipHalf.subject_id,
        ClassMembershipHalf.subgroup,
        ClassMembership.pupil_id,
    )
    parent = ClassMembershipHalf.class_group_id
    order_by = (
        ClassMembershipHalf.subject_id,
        ClassMembershipHalf.subgroup,
        ClassMembership.pupil_id,
    )

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (
            ClassMembership.id == ClassMembershipHalf.membership_id,
            ClassMembership.until.is_(None),
            person_readable(self.principal, ClassMembership.pupil_id),
        )


class TeachingAssignmentsByClassLoader(ByParent):
    columns = tuple(TeachingAssignment.__table__.c)
    parent = TeachingAssignment.class_group_id
    order_by = (TeachingAssignment.subject_id, TeachingAssignment.teacher_id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (TeachingAssignment.ended_on.is_(None),)


class TimetableSlotByIdLoader(ById):
    columns = tuple(TimetableSlot.__table__.c)
    key = TimetableSlot.id

    def rule(self) -> ColumnElement[bool]:
        return of_readable_class(self.principal, TimetableSlot.class_group_id)


class RoomByIdLoader(ById):
    """Rooms are no one's personal data."""

    columns = tuple(Room.__table__.c)
    key = Room.id


class LessonByIdLoader(ById):
    columns = tuple(ClassLesson.__table__.c)
    key = ClassLesson.id

    def rule(self) -> ColumnElement[bool]:
        return of_readable_class(self.principal, ClassLesson.class_group_id)


class HomeworkByIdLoader(ById):
    columns = tuple(Homework.__table__.c)
    key = Homework.id

    def rule(self) -> ColumnElement[bool]:
        return of_readable_class(self.principal, Homework.class_group_id)


class SubmissionByIdLoader(ById):
    columns = tuple(HomeworkSubmission.__table__.c)
    key = HomeworkSubmission.id

    def rule(self) -> ColumnElement[bool]:
        return person_readable(self.principal, HomeworkSubmission.pupil_id)


class SubmissionsByHomeworkLoader(ByParent):
    """The work handed in, by the pupils the caller may read (a pupil: their own)."""

    columns = tuple(HomeworkSubmission.__table__.c)
    parent = HomeworkSubmission.homework_id
    order_by = (HomeworkSubmission.pupil_id,)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (person_readable(self.principal, HomeworkSubmission.pupil_id),)


class FilesBySubmissionLoader(ByParent):
    """A submission's files with their stored size and type."""

    columns = (*HomeworkFile.__table__.c, FileObject.size_bytes, FileObject.media_type)
    parent = HomeworkFile.submission_id
    order_by = (HomeworkFile.position,)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (FileObject.sha256 == HomeworkFile.sha256,)


class ConcernReportByIdLoader(ById):
    columns = tuple(ConcernReport.__table__.c)
    key = ConcernReport.id

    def rule(self) -> ColumnElement[bool]:
        return concern_readable(self.principal)


class ConcernEventsByReportLoader(ByParent):
    columns = tuple(ConcernReportEvent.__table__.c)
    parent = ConcernReportEvent.report_id
    order_by = (ConcernReportEvent.at, ConcernReportEvent.id)


class AbsencesByLessonLoader(ByParent):
    """A lesson's absences, of the pupils the caller may read (a guardian: their child's)."""

    columns = tuple(Attendance.__table__.c)
    parent = Attendance.lesson_id
    order_by = (Attendance.pupil_id,)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (person_readable(self.principal, Attendance.pupil_id),)


class PupilsByLessonLoader(ByParent):
    """A lesson's register: the pupils it is for (the class's on its date; of a lesson of a
    half, not those learning its subject in the other half: resolvers/lms/halves.py), those
    the caller may read. The lessons come through :class:`LessonByIdLoader`'s rule."""

    columns = (ClassLesson.id, ClassMembership.pupil_id)
    parent = ClassLesson.id
    order_by = (ClassLesson.id, ClassMembership.pupil_id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (
            ClassMembership.class_group_id == ClassLesson.class_group_id,
            ClassMembership.since <= ClassLesson.on_date,
            or_(ClassMembership.until.is_(None), ClassMembership.until > ClassLesson.on_date),
            ~in_other_half(
                year=ClassLesson.academic_year_id,
                lesson=ClassLesson.id,
                subject=ClassLesson.subject_id,
                subgroup=ClassLesson.subgroup,
                membership=ClassMembership.id,
                pupil=ClassMembership.pupil_id,
            ),
            person_readable(self.principal, ClassMembership.pupil_id),
        )


class MarksByLessonLoader(ByParent):
    """A lesson's current marks, of the pupils the caller may read."""

    columns = tuple(Mark.__table__.c)
    parent = Mark.lesson_id
    order_by = (Mark.pupil_id, Mark.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (
            Mark.superseded_at.is_(None),
            person_readable(self.principal, Mark.pupil_id),
        )


class MarkHistoryByLessonLoader(ByParent):
    """Every mark ever given in a lesson, corrections and what they replaced."""

    columns = tuple(Mark.__table__.c)
    parent = Mark.lesson_id
    order_by = (Mark.pupil_id, Mark.work, Mark.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (person_readable(self.principal, Mark.pupil_id),)


class HomeworkByLessonLoader(ByParent):
    columns = tuple(Homework.__table__.c)
    parent = Homework.lesson_id
    order_by = (Homework.id,)
