"""A lesson's quiz: single and multiple choice, numeric and short-text questions with their
answer keys (never shown to learners), set while the lesson is a draft, and the grading of a
learner's answers into a score of 0-100."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Lesson, LessonAction, LessonStatus, QuestionKind, QuizQuestion
from resolvers.access import Principal, require
from resolvers.content.errors import ContentCode
from resolvers.content.lessons import changed, lesson_for_change
from resolvers.content.rules import may_edit_lessons
from resolvers.content.search import fold
from resolvers.errors import DomainError

MAX_QUESTIONS, MAX_CHOICES, MAX_ACCEPTED = 50, 10, 20
CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)


@dataclass(frozen=True)
class QuestionSpec:
    """A question as an editor writes it, with its answer key."""

    kind: QuestionKind
    prompt: str
    choices: Sequence[str] = ()
    correct_choices: Sequence[int] = ()
    numeric_answer: Decimal | None = None
    tolerance: Decimal | None = None
    accepted_answers: Sequence[str] = ()
    points: int = 1


@dataclass(frozen=True)
class Answer:
    """A learner's answer to one question."""

    question_id: int
    choices: Sequence[int] = field(default_factory=tuple)
    number: Decimal | None = None
    text: str | None = None


def _invalid(index: int, name: str, message: str) -> DomainError:
    return DomainError(ContentCode.INVALID_QUIZ, message, field=f"questions[{index}].{name}")


def _answer_key(index: int, spec: QuestionSpec) -> dict[str, Any]:
    """The stored answer key of a question, or INVALID_QUIZ naming the faulty part."""
    if spec.kind in CHOICE_KINDS:
        if not 2 <= len(spec.choices) <= MAX_CHOICES or any(
            not c.strip() or len(c) > 500 for c in spec.choices
        ):
            raise _invalid(index, "choices", f"2-{MAX_CHOICES} choices of 1-500 characters")
        correct = sorted(set(spec.correct_choices))
        if not correct or any(not 0 <= c < len(spec.choices) for c in correct):
            raise _invalid(index, "correctChoices", "Name the right choices by their index")
        if spec.kind == QuestionKind.SINGLE_CHOICE:
            if len(correct) != 1:
                raise _invalid(index, "correctChoices", "A single-choice question has one answer")
            return {"choice": correct[0]}
        return {"choices": correct}
    if spec.kind == QuestionKind.NUMERIC:
        if spec.numeric_answer is None:
            raise _invalid(index, "numericAnswer", "Give the numeric answer")
        tolerance = spec.tolerance or Decimal(0)
        if tolerance < 0:
            raise _invalid(index, "tolerance", "The tolerance is not negative")
        return {"value": str(spec.numeric_answer), "tolerance": str(tolerance)}
    accepted = sorted({_normal(a) for a in spec.accepted_answers if _normal(a)})
    if not 1 <= len(accepted) <= MAX_ACCEPTED:
        raise _invalid(index, "acceptedAnswers", f"1-{MAX_ACCEPTED} accepted answers")
    return {"accepted": accepted}


def _normal(text: str) -> str:
    """A short answer as compared: folded (either script, any case), spaces collapsed."""
    return " ".join(fold(text).split())


async def set_lesson_quiz(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    questions: Sequence[QuestionSpec],
) -> Lesson:
    """Replace a draft lesson's quiz (content editors); an empty list removes it."""
    require(may_edit_lessons(principal), "Only content editors write quizzes")
    if len(questions) > MAX_QUESTIONS:
        raise DomainError(
            ContentCode.INVALID_QUIZ, f"At most {MAX_QUESTIONS} questions", field="questions"
        )
    rows = []
    for index, spec in enumerate(questions):
        prompt = spec.prompt.strip()
        if not 1 <= len(prompt) <= 2000:
            raise _invalid(index, "prompt", "A prompt is 1-2,000 characters")
        if not 1 <= spec.points <= 100:
            raise _invalid(index, "points", "A question is worth 1-100 points")
        rows.append(
            {
                "position": index + 1,
                "kind": spec.kind,
                "prompt": prompt,
                "choices": [c.strip() for c in spec.choices] if spec.kind in CHOICE_KINDS else [],
                "answer": _answer_key(index, spec),
                "points": spec.points,
            }
        )
    lesson = await lesson_for_change(
        session, lesson_id, states=(LessonStatus.DRAFT,), doing="setting the quiz"
    )
    await session.execute(delete(QuizQuestion).where(QuizQuestion.lesson_id == lesson.id))
    if rows:
        await session.execute(insert(QuizQuestion), [{"lesson_id": lesson.id, **r} for r in rows])
    return await changed(session, lesson, LessonAction.QUIZ_SET, principal)


def _correct(question: Any, answer: Answer) -> bool:
    key = question.answer
    if question.kind == QuestionKind.SINGLE_CHOICE:
        return list(answer.choices) == [key["choice"]]
    if question.kind == QuestionKind.MULTIPLE_CHOICE:
        return sorted(set(answer.choices)) == key["choices"]
    if question.kind == QuestionKind.NUMERIC:
        if answer.number is None:
            return False
        return abs(answer.number - Decimal(key["value"])) <= Decimal(key["tolerance"])
    return answer.text is not None and _normal(answer.text) in key["accepted"]


def grade_answers(questions: Sequence[Any], answers: Sequence[Answer]) -> Decimal | None:
    """The score (0-100, two decimals) of a learner's answers: points of the questions answered
    right over all points. None for a lesson without a quiz. A question left unanswered scores
    nothing; an answer to a question the lesson does not have is INVALID_INPUT."""
    if not questions:
        return None
    by_id = {q.id: q for q in questions}
    given: dict[int, Answer] = {}
    for answer in answers:
        if answer.question_id not in by_id:
            raise DomainError(
                ContentCode.INVALID_QUIZ,
                "An answer names a question the lesson does not have",
                field="answers",
            )
        given[answer.question_id] = answer
    total = sum(q.points for q in questions)
    earned = sum(q.points for q in questions if q.id in given and _correct(q, given[q.id]))
    return (Decimal(earned) * 100 / Decimal(total)).quantize(Decimal("0.01"))
