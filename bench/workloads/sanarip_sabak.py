"""The distance-learning portal "Sanarip Sabak" (portals/sanarip-sabak): pupils browse, search
and watch published lessons, take a term offline, see their feed and send their progress;
content editors load the curriculum and take lessons from draft to published.

Preparers write topics and lessons with SQL (content_state), each with its files and a quiz,
and use the dataset's pupils. Readers' calls carry a pupil's token (the portal's reader: an
anonymous reader's list is measured by ``python -m bench.content``)."""

from __future__ import annotations

from bench.workloads import Bench, Call, Upload, Workload
from bench.workloads import content_state as state
from bench.workloads.arrange import connect
from resolvers.access import Role
from resolvers.relay import encode_id

GRADE = 6
SUBJECTS = ("informatics", "technology", "fine_arts", "music", "ethics")


def _pupil(bench: Bench, person_id: int) -> str:
    return bench.token(Role.PUPIL, person_id=person_id)


async def _reader(bench: Bench) -> str:
    async with connect(bench) as conn:
        (pupil,) = await state.pupils(conn, 1, grade=GRADE)
    return _pupil(bench, pupil)


async def lessons(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 24, grade=GRADE)
    variables = {"grade": GRADE, "subject": "mathematics", "language": "KY", "term": 1}
    return [Call(variables, await _reader(bench))]


async def lesson_search(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 24, grade=GRADE)
    return [Call({"query": "бөлчөктөрдү кошуу", "grade": GRADE}, await _reader(bench))]


async def lesson(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        ids = await state.lessons(conn, min(n, 50), grade=GRADE)
    token = await _reader(bench)
    return [Call({"id": encode_id("Lesson", i)}, token) for i in ids][:n]


async def subjects(bench: Bench, n: int) -> list[Call]:
    return [Call({}, await _reader(bench))]


async def curriculum_units(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 30, grade=GRADE, media=False)
    return [Call({"grade": GRADE, "subject": "mathematics"}, await _reader(bench))]


async def offline_pack(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 12, grade=GRADE, term=2)
    variables = {"grade": GRADE, "subject": "mathematics", "language": "KY", "term": 2}
    return [Call({**variables, "bandwidth": "MEDIUM"}, await _reader(bench))]


async def my_learning(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 12, grade=GRADE)
        people = await state.pupils(conn, min(n, 50), grade=GRADE)
    return [Call({}, _pupil(bench, p)) for p in people]


async def lessons_for_review(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        await state.lessons(conn, 20, grade=GRADE, status="in_review")
    return [Call({}, bench.token(Role.CONTENT_EDITOR))]


async def record_lesson_progress(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        ids = await state.lessons(conn, 20, grade=GRADE)
        people = await state.pupils(conn, n, grade=GRADE)
    return [
        Call({"input": state.statement(encode_id("Lesson", ids[k % len(ids)]))}, _pupil(bench, p))
        for k, p in enumerate(people)
    ]


async def sync_lesson_progress(bench: Bench, n: int) -> list[Call]:
    """A batch of 20 statements per call (a pupil's week offline)."""
    async with connect(bench) as conn:
        ids = await state.lessons(conn, 20, grade=GRADE)
        people = await state.pupils(conn, n, grade=GRADE)
    calls = []
    for p in people:
        batch = [state.statement(encode_id("Lesson", i), seconds=300) for i in ids]
        calls.append(Call({"input": {"statements": batch}}, _pupil(bench, p)))
    return calls


async def import_curriculum(bench: Bench, n: int) -> list[Call]:
    """A file of a grade's topics per call (40 lines), each call new topics."""
    header = (
        "standard,subject,grade,term,unit,unit_title,topic,topic_title,outcomes,hours,languages\n"
    )
    calls = []
    for k in range(min(n, 200)):
        label = state.tag()
        subject = SUBJECTS[k % len(SUBJECTS)]
        lines = "".join(
            f"12,{subject},{1 + k // len(SUBJECTS) % 11},1,{1 + k % 200},Бөлүм {label},{t},"
            f"Тема {label} {t},Окуучу түшүнөт,1,ky;ru\n"
            for t in range(1, 41)
        )
        upload = Upload("variables.input.file", "curriculum.csv", (header + lines).encode())
        calls.append(Call({"input": {"file": None}}, bench.token(Role.CONTENT_EDITOR), upload))
    return calls


async def create_lesson(bench: Bench, n: int) -> list[Call]:
    async with connect(bench) as conn:
        units = await conn.fetch(
            "SELECT u.id FROM curriculum_unit u WHERE 'tg' = ANY(u.languages) AND NOT EXISTS "
            "(SELECT 1 FROM lesson l WHERE l.unit_id = u.id AND l.language = 'tg') LIMIT $1",
            n,
        )
        if len(units) < n:
            await state.lessons(conn, n - len(units), grade=GRADE, media=False)
            units = await conn.fetch(
                "SELECT u.id FROM curriculum_unit u WHERE 'tg' = ANY(u.languages)"
                " AND NOT EXISTS (SELECT 1 FROM lesson l WHERE l.unit_id = u.id"
                " AND l.language = 'tg') LIMIT $1",
                n,
            )
    token = bench.token(Role.CONTENT_EDITOR)
    return [
        Call(
            {
                "input": {
                    "unitId": encode_id("CurriculumUnit", u["id"]),
                    "language": "TG",
                    "title": "Дарс",
                }
            },
            token,
        )
        for u in units
    ]


async def _drafts(bench: Bench, n: int, status: str = "draft") -> list[int]:
    async with connect(bench) as conn:
        return await state.lessons(conn, n, grade=GRADE, status=status, media=False)


async def upload_lesson_media(bench: Bench, n: int) -> list[Call]:
    ids = await _drafts(bench, n)
    token = bench.token(Role.CONTENT_EDITOR)
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return [
        Call(
            {
                "input": {
                    "lessonId": encode_id("Lesson", i),
                    "kind": "VIDEO",
                    "rendition": "240p",
                    "bitrateKbps": 300,
                    "file": None,
                }
            },
            token,
            Upload(
                "variables.input.file",
                "lesson.mp4",
                head + i.to_bytes(4, "big") + bytes(64_000),
                "video/mp4",
            ),
        )
        for i in ids
    ]


async def set_lesson_quiz(bench: Bench, n: int) -> list[Call]:
    ids = await _drafts(bench, n)
    questions = [
        {
            "kind": "SINGLE_CHOICE",
            "prompt": "1/4 + 2/4?",
            "choices": ["1/4", "3/4"],
            "correctChoices": [1],
        },
        {"kind": "NUMERIC", "prompt": "0.5 + 0.25?", "numericAnswer": "0.75", "tolerance": "0.01"},
        {"kind": "SHORT_TEXT", "prompt": "Бөлчөктүн үстүндөгү сан?", "acceptedAnswers": ["алым"]},
    ]
    token = bench.token(Role.CONTENT_EDITOR)
    return [
        Call({"input": {"lessonId": encode_id("Lesson", i), "questions": questions}}, token)
        for i in ids
    ]


async def submit_lesson_for_review(bench: Bench, n: int) -> list[Call]:
    ids = await _drafts(bench, n)
    token = bench.token(Role.CONTENT_EDITOR)
    return [Call({"input": {"lessonId": encode_id("Lesson", i)}}, token) for i in ids]


async def publish_lesson(bench: Bench, n: int) -> list[Call]:
    ids = await _drafts(bench, n, status="in_review")
    token = bench.token(Role.CONTENT_EDITOR)
    return [Call({"input": {"lessonId": encode_id("Lesson", i)}}, token) for i in ids]


WORKLOADS = [
    Workload("sanarip-sabak/Lessons", lessons),
    Workload("sanarip-sabak/LessonSearch", lesson_search),
    Workload("sanarip-sabak/Lesson", lesson),
    Workload("sanarip-sabak/Subjects", subjects),
    Workload("sanarip-sabak/CurriculumUnits", curriculum_units),
    Workload("sanarip-sabak/OfflinePack", offline_pack),
    Workload("sanarip-sabak/MyLearning", my_learning),
    Workload("sanarip-sabak/LessonsForReview", lessons_for_review),
    Workload("sanarip-sabak/RecordLessonProgress", record_lesson_progress),
    Workload("sanarip-sabak/SyncLessonProgress", sync_lesson_progress),
    Workload("sanarip-sabak/ImportCurriculum", import_curriculum),
    Workload("sanarip-sabak/CreateLesson", create_lesson),
    Workload("sanarip-sabak/UploadLessonMedia", upload_lesson_media),
    Workload("sanarip-sabak/SetLessonQuiz", set_lesson_quiz),
    Workload("sanarip-sabak/SubmitLessonForReview", submit_lesson_for_review),
    Workload("sanarip-sabak/PublishLesson", publish_lesson),
]
