"""Learning content (issue 16; domain.md S1, S5): the distance-learning portal "Sanarip
Sabak", the grade-band portals (grades 1-4 and 5-9: views of the same lessons) and the open
education portal for university students.

Modules: ``curriculum`` (reference checks and the curriculum import), ``lessons`` (the
lesson workflow, history and broadcasts), ``media`` (uploads through the file store),
``quizzes`` (questions and grading), ``progress`` (idempotent progress statements and offline
batches), ``feed`` (a learner's ``myLearning``), ``search`` (Kyrgyz and Russian full-text
search), ``offline`` (offline packs), ``courses`` (open courses, runs and enrollment),
``certificates`` (results, certificates, credit recognition, the public check), ``queries``
(the lists), ``rules`` (who may do and read what) and ``loaders``.
"""

from resolvers.content.certificates import (
    CertificateCheck,
    final_score,
    issue_certificate,
    recognize_course_credits,
    record_assessment_result,
    verify_certificate,
)
from resolvers.content.courses import (
    AssessmentSpec,
    CourseSpec,
    Enrolled,
    ModuleSpec,
    OfferedCourse,
    create_course_run,
    create_open_course,
    enroll_in_course_run,
)
from resolvers.content.curriculum import (
    MAX_BYTES as MAX_CURRICULUM_BYTES,
)
from resolvers.content.curriculum import (
    CurriculumImport,
    LineProblem,
    check_grade,
    check_term,
    import_curriculum,
    known_subject_codes,
    lesson_language,
    subject_code,
    subject_codes,
)
from resolvers.content.feed import (
    PROGRESS_ORDERINGS,
    Placement,
    class_positions,
    class_term,
    current_term,
    feed_term,
    next_lessons_query,
    next_lessons_select,
    placement,
    placement_sql,
    progress_query,
    today_sql,
)
from resolvers.content.lessons import (
    LessonText,
    archive_lesson,
    create_lesson,
    publish_lesson,
    return_lesson,
    schedule_broadcast,
    submit_lesson_for_review,
    update_lesson,
)
from resolvers.content.media import MediaSpec, upload_lesson_media
from resolvers.content.offline import Bandwidth, Pack, PackFile, offline_pack
from resolvers.content.progress import (
    MAX_BATCH,
    Rejected,
    Statement,
    SyncReport,
    record_lesson_progress,
    sync_lesson_progress,
)
from resolvers.content.queries import (
    COURSE_ORDERINGS,
    LESSON_ORDERINGS,
    MY_ENROLLMENT_ORDERING,
    RUN_ORDERINGS,
    UNIT_ORDERINGS,
    CourseFilter,
    LessonFilter,
    UnitFilter,
    curriculum_units_query,
    lessons_query,
    my_course_enrollments_query,
    open_courses_query,
    subjects_query,
)
from resolvers.content.quizzes import Answer, QuestionSpec, set_lesson_quiz
from resolvers.content.rules import may_edit_lessons, may_offer_courses
from resolvers.content.search import fold, search_query, search_statement

__all__ = [
    "COURSE_ORDERINGS",
    "LESSON_ORDERINGS",
    "MAX_BATCH",
    "MAX_CURRICULUM_BYTES",
    "MY_ENROLLMENT_ORDERING",
    "PROGRESS_ORDERINGS",
    "RUN_ORDERINGS",
    "UNIT_ORDERINGS",
    "Answer",
    "AssessmentSpec",
    "Bandwidth",
    "CertificateCheck",
    "CourseFilter",
    "CourseSpec",
    "CurriculumImport",
    "Enrolled",
    "LessonFilter",
    "LessonText",
    "LineProblem",
    "MediaSpec",
    "ModuleSpec",
    "OfferedCourse",
    "Pack",
    "PackFile",
    "Placement",
    "QuestionSpec",
    "Rejected",
    "Statement",
    "SyncReport",
    "UnitFilter",
    "archive_lesson",
    "check_grade",
    "check_term",
    "class_positions",
    "class_term",
    "create_course_run",
    "create_lesson",
    "create_open_course",
    "current_term",
    "curriculum_units_query",
    "enroll_in_course_run",
    "feed_term",
    "final_score",
    "fold",
    "import_curriculum",
    "issue_certificate",
    "known_subject_codes",
    "lesson_language",
    "lessons_query",
    "may_edit_lessons",
    "may_offer_courses",
    "my_course_enrollments_query",
    "next_lessons_query",
    "next_lessons_select",
    "offline_pack",
    "open_courses_query",
    "placement",
    "placement_sql",
    "progress_query",
    "publish_lesson",
    "recognize_course_credits",
    "record_assessment_result",
    "record_lesson_progress",
    "return_lesson",
    "schedule_broadcast",
    "search_query",
    "search_statement",
    "set_lesson_quiz",
    "subject_code",
    "subject_codes",
    "subjects_query",
    "submit_lesson_for_review",
    "sync_lesson_progress",
    "today_sql",
    "update_lesson",
    "upload_lesson_media",
    "verify_certificate",
]
