"""Who may do what with learning content, and which rows a caller may read.

Published lessons, the curriculum, open courses and runs are public data: anyone reads them.
Drafts and lessons in review are read by content editors (and the ministry). A learner's
progress and course enrollments are read by the learner (and a guardian of a minor), by the
university team running the course, and by the ministry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from models import CourseEnrollment, CourseRun, Lesson, LessonStatus, OpenCourse
from resolvers.access import Principal, Role, among
from resolvers.people.rules import self_or_child


def may_edit_lessons(principal: Principal) -> bool:
    """May this principal import the curriculum and create, review and publish lessons? The
    ministry and the national content team (a ``content_editor`` without an institution
    scope)."""
    if principal.is_ministry:
        return True
    return principal.role == Role.CONTENT_EDITOR and not principal.institution_ids


def may_offer_courses(principal: Principal, institution_id: int) -> bool:
    """May this principal run open courses for this university? The ministry, and a
    ``content_editor`` whose scope names the university."""
    if principal.is_ministry:
        return True
    return principal.role == Role.CONTENT_EDITOR and institution_id in principal.institution_ids


def lesson_visible(principal: Principal, lesson: Any = Lesson) -> ColumnElement[bool]:
    """May this principal read this lesson? Published ones: anyone; others: lesson editors."""
    if may_edit_lessons(principal):
        return true()
    return lesson.status == LessonStatus.PUBLISHED


def progress_readable(principal: Principal, learner_id: Any) -> ColumnElement[bool]:
    """May this principal read this learner's progress? The learner, a guardian of theirs, the
    ministry."""
    if principal.is_ministry:
        return true()
    return self_or_child(principal, learner_id)


def course_enrollment_readable(
    principal: Principal, enrollment: Any = CourseEnrollment
) -> ColumnElement[bool]:
    """May this principal read this course enrollment? The learner (or their guardian), the
    team of the university that runs the course, the ministry."""
    if principal.is_ministry:
        return true()
    clauses = [self_or_child(principal, enrollment.person_id)]
    if principal.role == Role.CONTENT_EDITOR and principal.institution_ids:
        runs_here = (
            select(CourseRun.id)
            .join(OpenCourse, OpenCourse.id == CourseRun.course_id)
            .where(among(OpenCourse.institution_id, principal.institution_ids))
        )
        clauses.append(enrollment.run_id.in_(runs_here))
    return or_(*clauses)
