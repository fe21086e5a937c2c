"""Learning content (issue 16): subjects and the curriculum, lessons with their history,
media, broadcasts and quizzes, learners' progress, and the open education portal's courses,
runs, enrollments, results and certificates. ``content_fold`` folds Kyrgyz and Russian
Cyrillic and Latin spellings to one plain Latin form for the lessons' search.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Upper-case Cyrillic to lower case first (whatever the server's locale), then the letters
# written with two Latin ones, then Latin spellings people type (zh, kh, ñ, ş, ç), then one
# letter for one (ө and ö to o, ү and ü to u, ж to j, й and ы to y; ъ and ь dropped).
# resolvers/content/search.py ``fold`` is its Python twin (a test holds them equal).
FOLD_FUNCTION = """
CREATE FUNCTION content_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT translate(
  replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
  replace(replace(
    lower(translate(value, 'АБВГДЕЁЖЗИЙКЛМНҢОӨПРСТУҮФХЦЧШЩЪЫЬЭЮЯ',
                           'абвгдеёжзийклмнңоөпрстуүфхцчшщъыьэюя')),
    'щ', 'sh'), 'ш', 'sh'), 'ч', 'ch'), 'ц', 'ts'), 'ю', 'yu'), 'я', 'ya'), 'ё', 'yo'),
    'ң', 'ng'), 'х', 'h'), 'zh', 'j'), 'kh', 'h'), 'ñ', 'ng'), 'ş', 'sh'), 'ç', 'ch'),
  'абвгдежзийклмноөпрстуүфыэöüqéıъь',
  'abvgdejziyklmnooprstuufyeoukei')
$$
"""

# The subjects of the school curriculum: code, Kyrgyz, Russian and English names.
SUBJECTS = [
    ("ALPHABET", "Сабат ачуу", "Обучение грамоте", "Learning to read and write"),
    ("KYRGYZ_LANGUAGE", "Кыргыз тили", "Кыргызский язык", "Kyrgyz language"),
    ("KYRGYZ_LITERATURE", "Кыргыз адабияты", "Кыргызская литература", "Kyrgyz literature"),
    ("RUSSIAN_LANGUAGE", "Орус тили", "Русский язык", "Russian language"),
    ("RUSSIAN_LITERATURE", "Орус адабияты", "Русская литература", "Russian literature"),
    ("UZBEK_LANGUAGE", "Өзбек тили", "Узбекский язык", "Uzbek language"),
    ("TAJIK_LANGUAGE", "Тажик тили", "Таджикский язык", "Tajik language"),
    ("ENGLISH", "Англис тили", "Английский язык", "English"),
    ("MATHEMATICS", "Математика", "Математика", "Mathematics"),
    ("ALGEBRA", "Алгебра", "Алгебра", "Algebra"),
    ("GEOMETRY", "Геометрия", "Геометрия", "Geometry"),
    ("NATURE_STUDIES", "Табият таануу", "Природоведение", "Nature studies"),
    ("HOMELAND_STUDIES", "Мекен таануу", "Родиноведение", "Homeland studies"),
    ("BIOLOGY", "Биология", "Биология", "Biology"),
    ("CHEMISTRY", "Химия", "Химия", "Chemistry"),
    ("PHYSICS", "Физика", "Физика", "Physics"),
    ("GEOGRAPHY", "География", "География", "Geography"),
    ("HISTORY_KYRGYZSTAN", "Кыргызстан тарыхы", "История Кыргызстана", "History of Kyrgyzstan"),
    ("WORLD_HISTORY", "Дүйнөлүк тарых", "Всемирная история", "World history"),
    ("SOCIAL_STUDIES", "Адам жана коом", "Человек и общество", "Man and society"),
    ("MANAS_STUDIES", "Манас таануу", "Манасоведение", "Manas studies"),
    ("ETHICS", "Адеп", "Этика", "Ethics"),
    ("INFORMATICS", "Информатика", "Информатика", "Informatics"),
    ("TECHNOLOGY", "Технология", "Технология", "Technology"),
    ("MUSIC", "Музыка", "Музыка", "Music"),
    ("ART", "Сүрөт", "Изобразительное искусство", "Art"),
    ("PHYSICAL_EDUCATION", "Дене тарбия", "Физическая культура", "Physical education"),
]


def upgrade() -> None:
    op.create_table('content_subject',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_ky', sa.String(length=200), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_content_subject'))
    )
    op.bulk_insert(sa.table('content_subject', sa.column('code'), sa.column('name_ky'), sa.column('name_ru'), sa.column('name_en')), [dict(zip(('code', 'name_ky', 'name_ru', 'name_en'), s)) for s in SUBJECTS])
    op.create_table('curriculum_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('CurriculumUnit:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('standard', sa.Enum('twelve_year', 'eleven_year', name='curriculumstandard', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject_code', sa.String(length=40), nullable=False),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('term', sa.SmallInteger(), nullable=False),
    sa.Column('unit_no', sa.SmallInteger(), nullable=False),
    sa.Column('unit_title', sa.String(length=300), nullable=False),
    sa.Column('topic_no', sa.SmallInteger(), nullable=False),
    sa.Column('topic_title', sa.String(length=300), nullable=False),
    sa.Column('outcomes', sa.ARRAY(sa.String(length=500)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('languages', sa.ARRAY(sa.String(length=2)), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cardinality(languages) >= 1 AND languages <@ ARRAY['ky', 'ru', 'uz', 'tg']::varchar[]", name=op.f('ck_curriculum_unit_languages')),
    sa.CheckConstraint("grade BETWEEN 1 AND 12 AND (standard = 'twelve_year' OR grade <= 11)", name=op.f('ck_curriculum_unit_grade')),
    sa.CheckConstraint('hours > 0', name=op.f('ck_curriculum_unit_hours')),
    sa.CheckConstraint('term BETWEEN 1 AND 4', name=op.f('ck_curriculum_unit_term')),
    sa.CheckConstraint('unit_no >= 1 AND topic_no >= 1', name=op.f('ck_curriculum_unit_numbers')),
    sa.ForeignKeyConstraint(['subject_code'], ['content_subject.code'], name=op.f('fk_curriculum_unit_subject_code_content_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_curriculum_unit')),
    sa.UniqueConstraint('standard', 'subject_code', 'grade', 'unit_no', 'topic_no', name='uq_curriculum_unit_place')
    )
    op.create_index('ix_curriculum_unit_order', 'curriculum_unit', ['grade', 'subject_code', 'term', 'unit_no', 'topic_no', 'id'], unique=False)
    op.execute(FOLD_FUNCTION)
    op.create_table('lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('Lesson:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('standard', sa.Enum('twelve_year', 'eleven_year', name='curriculumstandard', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject_code', sa.String(length=40), nullable=False),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('term', sa.SmallInteger(), nullable=False),
    sa.Column('unit_no', sa.SmallInteger(), nullable=False),
    sa.Column('topic_no', sa.SmallInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'in_review', 'published', 'archived', name='lessonstatus', native_enum=False, create_constraint=True, length=32), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_folded', sa.Text(), sa.Computed("content_fold(title || ' ' || coalesce(summary, ''))", persisted=True), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('simple'::regconfig, content_fold(title)), 'A') || setweight(to_tsvector('simple'::regconfig, content_fold(coalesce(summary, ''))), 'B') || setweight(to_tsvector('simple'::regconfig, content_fold(coalesce(body, ''))), 'C') || CASE WHEN language = 'ru' THEN setweight(to_tsvector('russian'::regconfig, title || ' ' || coalesce(summary, '')), 'A') ELSE ''::tsvector END", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name=op.f('ck_lesson_published_at')),
    sa.CheckConstraint("language IN ('ky', 'ru', 'uz', 'tg')", name=op.f('ck_lesson_language')),
    sa.CheckConstraint('duration_seconds IS NULL OR duration_seconds > 0', name=op.f('ck_lesson_duration')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_lesson_position')),
    sa.ForeignKeyConstraint(['subject_code'], ['content_subject.code'], name=op.f('fk_lesson_subject_code_content_subject')),
    sa.ForeignKeyConstraint(['unit_id'], ['curriculum_unit.id'], name=op.f('fk_lesson_unit_id_curriculum_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson'))
    )
    op.create_index('ix_lesson_published_order', 'lesson', ['grade', 'subject_code', 'language', 'term', 'unit_no', 'topic_no', 'position', 'id'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_lesson_search', 'lesson', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_lesson_search_trgm', 'lesson', ['search_folded'], unique=False, postgresql_using='gin', postgresql_ops={'search_folded': 'gin_trgm_ops'})
    op.create_index('uq_lesson_place', 'lesson', ['unit_id', 'language', 'position'], unique=True, postgresql_where=sa.text("status <> 'archived'"))
    op.create_table('lesson_broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('airs_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_broadcast_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_broadcast')),
    sa.UniqueConstraint('channel', 'airs_at', name='uq_lesson_broadcast_slot')
    )
    op.create_index('ix_lesson_broadcast_lesson', 'lesson_broadcast', ['lesson_id', 'airs_at'], unique=False)
    op.create_table('lesson_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('video', 'audio', 'subtitles', 'attachment', 'thumbnail', name='mediakind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rendition', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('height', sa.SmallInteger(), nullable=True),
    sa.Column('bitrate_kbps', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind <> 'video' OR height IS NOT NULL", name=op.f('ck_lesson_media_video_height')),
    sa.CheckConstraint('bitrate_kbps IS NULL OR bitrate_kbps > 0', name=op.f('ck_lesson_media_bitrate')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_lesson_media_size')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_media_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['file_object.sha256'], name=op.f('fk_lesson_media_sha256_file_object')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_media')),
    sa.UniqueConstraint('lesson_id', 'kind', 'rendition', name='uq_lesson_media_rendition')
    )
    op.create_index(op.f('ix_lesson_media_sha256'), 'lesson_media', ['sha256'], unique=False)
    op.create_table('lesson_progress',
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('started', 'completed', name='progressstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('seconds_spent', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('best_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name=op.f('ck_lesson_progress_completed_at')),
    sa.CheckConstraint('seconds_spent >= 0', name=op.f('ck_lesson_progress_seconds')),
    sa.ForeignKeyConstraint(['learner_id'], ['person.id'], name=op.f('fk_lesson_progress_learner_id_person')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_progress_lesson_id_lesson')),
    sa.PrimaryKeyConstraint('learner_id', 'lesson_id', name=op.f('pk_lesson_progress'))
    )
    op.create_index('ix_lesson_progress_lesson', 'lesson_progress', ['lesson_id'], unique=False)
    op.create_table('lesson_progress_statement',
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Uuid(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.SmallInteger(), nullable=False),
    sa.Column('verb', sa.Enum('started', 'progressed', 'completed', name='progressverb', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.CheckConstraint('attempt BETWEEN 1 AND 1000', name=op.f('ck_lesson_progress_statement_attempt')),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 100', name=op.f('ck_lesson_progress_statement_score')),
    sa.CheckConstraint('seconds BETWEEN 0 AND 86400', name=op.f('ck_lesson_progress_statement_seconds')),
    sa.ForeignKeyConstraint(['learner_id'], ['person.id'], name=op.f('fk_lesson_progress_statement_learner_id_person')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_progress_statement_lesson_id_lesson')),
    sa.PrimaryKeyConstraint('learner_id', 'statement_id', name=op.f('pk_lesson_progress_statement'))
    )
    op.create_index('ix_lesson_progress_statement_lesson', 'lesson_progress_statement', ['lesson_id', 'learner_id'], unique=False)
    op.create_table('lesson_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('created', 'edited', 'media_added', 'quiz_set', 'broadcast_scheduled', 'submitted', 'returned', 'published', 'archived', name='lessonaction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'published', 'archived', name='lessonstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_revision_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_revision')),
    sa.UniqueConstraint('lesson_id', 'version', name='uq_lesson_revision_version')
    )
    op.create_table('open_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('OpenCourse:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('level', sa.Enum('bachelor', 'master', 'phd', name='studylevel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('credits', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('programme_code', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("language IN ('ky', 'ru', 'uz', 'tg', 'en')", name=op.f('ck_open_course_language')),
    sa.CheckConstraint('credits > 0 AND credits <= 60', name=op.f('ck_open_course_credits')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_open_course_institution_id_institution')),
    sa.ForeignKeyConstraint(['programme_code'], ['programme_code.code'], name=op.f('fk_open_course_programme_code_programme_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_course')),
    sa.UniqueConstraint('institution_id', 'code', name='uq_open_course_code')
    )
    op.create_index('ix_open_course_list', 'open_course', ['language', 'level', 'id'], unique=False)
    op.create_table('quiz_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.Enum('single_choice', 'multiple_choice', 'numeric', 'short_text', name='questionkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('prompt', sa.String(length=2000), nullable=False),
    sa.Column('choices', sa.ARRAY(sa.String(length=500)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('answer', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('points', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint('points BETWEEN 1 AND 100', name=op.f('ck_quiz_question_points')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_quiz_question_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_question')),
    sa.UniqueConstraint('lesson_id', 'position', name='uq_quiz_question_position')
    )
    op.create_table('course_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('quiz', 'assignment', 'project', 'exam', name='assessmentkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('weight', sa.SmallInteger(), nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint('weight BETWEEN 0 AND 100', name=op.f('ck_course_assessment_weight')),
    sa.ForeignKeyConstraint(['course_id'], ['open_course.id'], name=op.f('fk_course_assessment_course_id_open_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_assessment')),
    sa.UniqueConstraint('course_id', 'position', name='uq_course_assessment_position')
    )
    op.create_table('course_module',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=True),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_course_module_hours')),
    sa.ForeignKeyConstraint(['course_id'], ['open_course.id'], name=op.f('fk_course_module_course_id_open_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_module')),
    sa.UniqueConstraint('course_id', 'position', name='uq_course_module_position')
    )
    op.create_table('course_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('CourseRun:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('enrollment_closes_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('enrolled', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('open_to_all', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('pass_mark', sa.SmallInteger(), server_default=sa.text('50'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 1', name=op.f('ck_course_run_capacity_positive')),
    sa.CheckConstraint('enrolled >= 0 AND (capacity IS NULL OR enrolled <= capacity)', name=op.f('ck_course_run_capacity')),
    sa.CheckConstraint('enrollment_closes_on <= ends_on', name=op.f('ck_course_run_enrollment_window')),
    sa.CheckConstraint('pass_mark BETWEEN 0 AND 100', name=op.f('ck_course_run_pass_mark')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_course_run_dates')),
    sa.ForeignKeyConstraint(['course_id'], ['open_course.id'], name=op.f('fk_course_run_course_id_open_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_run'))
    )
    op.create_index('ix_course_run_course', 'course_run', ['course_id', 'starts_on', 'id'], unique=False)
    op.create_table('course_enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('CourseEnrollment:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('enrolled', 'completed', name='courseenrollmentstatus', native_enum=False, create_constraint=True, length=32), server_default=sa.text("'enrolled'"), nullable=False),
    sa.Column('final_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('recognised_by_institution_id', sa.Integer(), nullable=True),
    sa.Column('recognised_credits', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('recognised_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'completed') = (completed_on IS NOT NULL AND final_score IS NOT NULL)", name=op.f('ck_course_enrollment_completed')),
    sa.CheckConstraint('(recognised_by_institution_id IS NULL) = (recognised_credits IS NULL)', name=op.f('ck_course_enrollment_recognition')),
    sa.CheckConstraint('final_score IS NULL OR final_score BETWEEN 0 AND 100', name=op.f('ck_course_enrollment_final_score')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_course_enrollment_person_id_person')),
    sa.ForeignKeyConstraint(['recognised_by_institution_id'], ['institution.id'], name=op.f('fk_course_enrollment_recognised_by_institution_id_institution')),
    sa.ForeignKeyConstraint(['run_id'], ['course_run.id'], name=op.f('fk_course_enrollment_run_id_course_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_enrollment')),
    sa.UniqueConstraint('run_id', 'person_id', name='uq_course_enrollment_person')
    )
    op.create_index('ix_course_enrollment_person', 'course_enrollment', ['person_id', 'id'], unique=False)
    op.create_table('course_assessment_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name=op.f('ck_course_assessment_result_score')),
    sa.ForeignKeyConstraint(['assessment_id'], ['course_assessment.id'], name=op.f('fk_course_assessment_result_assessment_id_course_assessment')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['course_enrollment.id'], name=op.f('fk_course_assessment_result_enrollment_id_course_enrollment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_assessment_result')),
    sa.UniqueConstraint('enrollment_id', 'assessment_id', name='uq_course_assessment_result')
    )
    op.create_table('course_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('CourseCertificate:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['enrollment_id'], ['course_enrollment.id'], name=op.f('fk_course_certificate_enrollment_id_course_enrollment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_certificate')),
    sa.UniqueConstraint('enrollment_id', name='uq_course_certificate_enrollment'),
    sa.UniqueConstraint('number', name='uq_course_certificate_number')
    )


def downgrade() -> None:
    op.drop_table('course_certificate')
    op.drop_table('course_assessment_result')
    op.drop_index('ix_course_enrollment_person', table_name='course_enrollment')
    op.drop_table('course_enrollment')
    op.drop_index('ix_course_run_course', table_name='course_run')
    op.drop_table('course_run')
    op.drop_table('course_module')
    op.drop_table('course_assessment')
    op.drop_table('quiz_question')
    op.drop_index('ix_open_course_list', table_name='open_course')
    op.drop_table('open_course')
    op.drop_table('lesson_revision')
    op.drop_index('ix_lesson_progress_statement_lesson', table_name='lesson_progress_statement')
    op.drop_table('lesson_progress_statement')
    op.drop_index('ix_lesson_progress_lesson', table_name='lesson_progress')
    op.drop_table('lesson_progress')
    op.drop_index(op.f('ix_lesson_media_sha256'), table_name='lesson_media')
    op.drop_table('lesson_media')
    op.drop_index('ix_lesson_broadcast_lesson', table_name='lesson_broadcast')
    op.drop_table('lesson_broadcast')
    op.drop_index('uq_lesson_place', table_name='lesson', postgresql_where=sa.text("status <> 'archived'"))
    op.drop_index('ix_lesson_search_trgm', table_name='lesson', postgresql_using='gin')
    op.drop_index('ix_lesson_search', table_name='lesson', postgresql_using='gin')
    op.drop_index('ix_lesson_published_order', table_name='lesson', postgresql_where=sa.text("status = 'published'"))
    op.drop_table('lesson')
    op.drop_index('ix_curriculum_unit_order', table_name='curriculum_unit')
    op.drop_table('curriculum_unit')
    op.drop_table('content_subject')
    op.execute('DROP FUNCTION content_fold(text)')
