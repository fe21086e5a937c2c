"""Learning content's inputs: list filters and the mutations' inputs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NewType

import strawberry
from strawberry.file_uploads import Upload

from models import ProgressVerb as ProgressVerbEnum
from schema.abroad.types import StudyLevel
from schema.content.courses import AssessmentKind
from schema.content.types import CurriculumStandard, LessonStatus, MediaKind, QuestionKind
from schema.institutions import Language

strawberry.enum(
    ProgressVerbEnum, name="ProgressVerb", description="What a progress statement says."
)

# strawberry's own UUID scalar has no description, and every type of the graph has one.
if TYPE_CHECKING:
    UUID = uuid.UUID
else:
    UUID = strawberry.scalar(
        NewType("UUID", uuid.UUID),
        name="UUID",
        description="A UUID in its text form (RFC 9562).",
        serialize=str,
        parse_value=uuid.UUID,
    )


@strawberry.input(description="Narrow a lesson list; every field given must hold.")
class LessonFilterInput:
    grade: int | None = strawberry.field(default=None, description="Only this grade.")
    grade_min: int | None = strawberry.field(
        default=None, description="Only grades from this one (a grade-band portal's lower end)."
    )
    grade_max: int | None = strawberry.field(
        default=None, description="Only grades up to this one (a grade-band portal's upper end)."
    )
    subject: str | None = strawberry.field(default=None, description="Only this subject's code.")
    language: Language | None = strawberry.field(default=None, description="Only this language.")
    term: int | None = strawberry.field(default=None, description="Only this term (1-4).")
    standard: CurriculumStandard | None = strawberry.field(
        default=None, description="Only this school model."
    )
    unit_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this curriculum topic's lessons."
    )
    status: LessonStatus | None = strawberry.field(
        default=None,
        description="Only this status (content editors; everyone else reads published ones).",
    )


@strawberry.input(description="Narrow the curriculum; every field given must hold.")
class CurriculumUnitFilterInput:
    standard: CurriculumStandard | None = strawberry.field(
        default=None, description="Only this school model."
    )
    subject: str | None = strawberry.field(default=None, description="Only this subject's code.")
    grade: int | None = strawberry.field(default=None, description="Only this grade.")
    term: int | None = strawberry.field(default=None, description="Only this term.")
    language: Language | None = strawberry.field(
        default=None, description="Only topics offered in this language."
    )


@strawberry.input(description="Narrow the open courses; every field given must hold.")
class OpenCourseFilterInput:
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this university's."
    )
    language: Language | None = strawberry.field(default=None, description="Only this language.")
    level: StudyLevel | None = strawberry.field(default=None, description="Only this level.")
    programme_code: str | None = strawberry.field(
        default=None, description="Only under this programme code."
    )


# --- lessons ---------------------------------------------------------------------------------


@strawberry.input(description="Draft a lesson of a curriculum topic.")
class CreateLessonInput:
    unit_id: strawberry.ID = strawberry.field(description="The curriculum topic.")
    language: Language = strawberry.field(description="A language the topic is offered in.")
    title: str = strawberry.field(description="Title (1-300 characters).")
    summary: str | None = strawberry.field(default=None, description="What it teaches.")
    text: str | None = strawberry.field(default=None, description="The text version (markdown).")
    duration_seconds: int | None = strawberry.field(default=None, description="Length.")
    position: int | None = strawberry.field(
        default=None, description="Its place among the topic's lessons (default 1)."
    )


@strawberry.input(description="Change a draft lesson; fields left out stay as they are.")
class UpdateLessonInput:
    lesson_id: strawberry.ID = strawberry.field(description="The draft lesson.")
    title: str | None = strawberry.field(default=None, description="Title.")
    summary: str | None = strawberry.field(default=None, description="Summary.")
    text: str | None = strawberry.field(default=None, description="The text version.")
    duration_seconds: int | None = strawberry.field(default=None, description="Length.")
    position: int | None = strawberry.field(default=None, description="Place.")


@strawberry.input(description="Move a lesson on (submit, publish).")
class LessonStepInput:
    lesson_id: strawberry.ID = strawberry.field(description="The lesson.")


@strawberry.input(description="Send a lesson back, or take it off the portals, saying why.")
class LessonNoteInput:
    lesson_id: strawberry.ID = strawberry.field(description="The lesson.")
    note: str | None = strawberry.field(default=None, description="Why (needed to return it).")


@strawberry.input(description="Add (or replace) a file of a draft lesson.")
class UploadLessonMediaInput:
    lesson_id: strawberry.ID = strawberry.field(description="The draft lesson.")
    kind: MediaKind = strawberry.field(description="What the file is for.")
    rendition: str | None = strawberry.field(
        default=None,
        description="Video: 240p-1080p; subtitles: their language; attachments: a name.",
    )
    bitrate_kbps: int | None = strawberry.field(
        default=None, description="Bitrate (video and audio renditions)."
    )
    title: str | None = strawberry.field(default=None, description="Title (attachments).")
    file: Upload = strawberry.field(description="The file (a multipart upload).")


@strawberry.input(description="A quiz question with its answer key.")
class QuizQuestionInput:
    kind: QuestionKind = strawberry.field(description="How it is answered.")
    prompt: str = strawberry.field(description="The question.")
    choices: list[str] = strawberry.field(default_factory=list, description="Choices (2-10).")
    correct_choices: list[int] = strawberry.field(
        default_factory=list, description="Indexes (from 0) of the right choices."
    )
    numeric_answer: Decimal | None = strawberry.field(
        default=None, description="The right number (numeric questions)."
    )
    tolerance: Decimal | None = strawberry.field(
        default=None, description="How far off a numeric answer may be."
    )
    accepted_answers: list[str] = strawberry.field(
        default_factory=list,
        description="Accepted short answers (compared in either script, any case).",
    )
    points: int = strawberry.field(default=1, description="What it is worth (1-100).")


@strawberry.input(description="Replace a draft lesson's quiz.")
class SetLessonQuizInput:
    lesson_id: strawberry.ID = strawberry.field(description="The draft lesson.")
    questions: list[QuizQuestionInput] = strawberry.field(
        description="The questions, in order (at most 50; none removes the quiz)."
    )


@strawberry.input(description="Put a lesson on a TV channel's schedule.")
class ScheduleLessonBroadcastInput:
    lesson_id: strawberry.ID = strawberry.field(description="The lesson.")
    channel: str = strawberry.field(description="The channel.")
    airs_at: datetime = strawberry.field(description="When it airs (with its offset).")


@strawberry.input(description="Load the curriculum file (CSV).")
class ImportCurriculumInput:
    file: Upload = strawberry.field(description="The CSV file (columns in the manual).")


# --- progress --------------------------------------------------------------------------------


@strawberry.input(description="A learner's answer to one quiz question.")
class QuizAnswerInput:
    question_id: strawberry.ID = strawberry.field(description="The question.")
    choices: list[int] = strawberry.field(
        default_factory=list, description="Chosen indexes (choice questions)."
    )
    number: Decimal | None = strawberry.field(default=None, description="A numeric answer.")
    text: str | None = strawberry.field(default=None, description="A short answer.")


@strawberry.input(description="One progress statement; its id makes it count once.")
class ProgressStatementInput:
    statement_id: UUID = strawberry.field(
        description="A UUID the device makes once per statement (resending it counts once)."
    )
    lesson_id: strawberry.ID = strawberry.field(description="The published lesson.")
    verb: ProgressVerbEnum = strawberry.field(description="Started, progressed or completed.")
    occurred_at: datetime = strawberry.field(description="When it happened (with its offset).")
    attempt: int = strawberry.field(default=1, description="Which attempt (1-1,000).")
    seconds: int = strawberry.field(default=0, description="Seconds spent since the last one.")
    answers: list[QuizAnswerInput] | None = strawberry.field(
        default=None, description="Quiz answers, with a completion."
    )
    learner_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The learner, when a school's server sends for its pupils (else you).",
    )


@strawberry.input(description="Progress recorded offline, sent in one batch.")
class SyncLessonProgressInput:
    statements: list[ProgressStatementInput] = strawberry.field(
        description="1-500 statements; ones the hub has already count once."
    )


# --- open courses ----------------------------------------------------------------------------


@strawberry.input(description="A module of a course.")
class CourseModuleInput:
    title: str = strawberry.field(description="Title.")
    hours: Decimal = strawberry.field(description="Study hours.")
    summary: str | None = strawberry.field(default=None, description="What it covers.")


@strawberry.input(description="An assessment of a course.")
class CourseAssessmentInput:
    title: str = strawberry.field(description="Title.")
    kind: AssessmentKind = strawberry.field(description="What it is.")
    weight: int = strawberry.field(description="Its share of the final score (all add to 100).")
    required: bool = strawberry.field(default=True, description="Needed to complete.")


@strawberry.input(description="Offer an open course from a university.")
class CreateOpenCourseInput:
    institution_id: strawberry.ID = strawberry.field(description="The university.")
    code: str = strawberry.field(description="The university's code of the course.")
    title: str = strawberry.field(description="Title.")
    description: str | None = strawberry.field(default=None, description="What it teaches.")
    language: Language = strawberry.field(description="Language of instruction.")
    level: StudyLevel = strawberry.field(description="Level of study.")
    credits: Decimal = strawberry.field(description="Credits (ECTS), in halves.")
    programme_code: str = strawberry.field(description="Programme code of the classifier.")
    modules: list[CourseModuleInput] = strawberry.field(description="Its modules, in order.")
    assessments: list[CourseAssessmentInput] = strawberry.field(
        description="Its assessments, in order; weights add up to 100."
    )


@strawberry.input(description="Schedule a run of a course.")
class CreateCourseRunInput:
    course_id: strawberry.ID = strawberry.field(description="The course.")
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day.")
    enrollment_closes_on: date = strawberry.field(description="Last day to enroll.")
    capacity: int | None = strawberry.field(default=None, description="Places (none: unlimited).")
    open_to_all: bool = strawberry.field(
        default=False, description="Anyone may enroll (else students of universities only)."
    )
    pass_mark: int = strawberry.field(default=50, description="Final score that completes it.")


@strawberry.input(description="Enroll in a course run (as yourself).")
class EnrollInCourseRunInput:
    run_id: strawberry.ID = strawberry.field(description="The run.")


@strawberry.input(description="Record a learner's score in an assessment.")
class RecordAssessmentResultInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The course enrollment.")
    assessment_id: strawberry.ID = strawberry.field(description="The course's assessment.")
    score: Decimal = strawberry.field(description="Score, 0-100.")


@strawberry.input(description="Issue the certificate of a completed enrollment.")
class IssueCertificateInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The course enrollment.")


@strawberry.input(description="Recognise a completed course's credits at the learner's university.")
class RecognizeCourseCreditsInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The course enrollment.")
    credits: Decimal = strawberry.field(description="Credits recognised (at most the course's).")
