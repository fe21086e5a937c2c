"""The libraries (issue 17): one catalogue for the national e-library and the school, college
and university libraries; the copies each library holds, their loans and holds; the digital
files of a record; the ministry's textbook approvals.

The rules the database can hold, it holds: one open loan per copy (a partial unique index),
one open hold per person and title at a library, a copy's barcode unique at its library, the
holdings summary kept by triggers (migration 0012) from the copies themselves."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.institutions import Language
from models.types import enum_column, global_id_column


class BibKind(enum.StrEnum):
    """What a catalogue record describes."""

    BOOK = "book"
    TEXTBOOK = "textbook"
    PERIODICAL = "periodical"
    THESIS = "thesis"
    AUDIOVISUAL = "audiovisual"
    OTHER = "other"


class Audience(enum.StrEnum):
    GENERAL = "general"
    CHILDREN = "children"
    SCHOOL = "school"
    HIGHER = "higher"
    PROFESSIONAL = "professional"


class Curriculum(enum.StrEnum):
    """The school standard a textbook serves (domain.md S1): the 12-year one, or the legacy
    11-year one that runs alongside during the transition."""

    TWELVE_YEAR = "twelve_year"
    ELEVEN_YEAR = "eleven_year"


class FileAccess(enum.StrEnum):
    """Who may read a record's digital file."""

    OPEN = "open"
    SIGNED_IN = "signed_in"
    INSTITUTION = "institution"


class FileFormat(enum.StrEnum):
    PDF = "pdf"
    EPUB = "epub"


class ItemStatus(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    # Set aside for the person whose hold it fills, until they pick it up or the hold expires.
    ON_HOLD_SHELF = "on_hold_shelf"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


class HoldStatus(enum.StrEnum):
    WAITING = "waiting"
    READY = "ready"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BibRecord(Timestamped, Base):
    """A work at edition level: what the catalogue lists, whoever holds copies of it."""

    __tablename__ = "bib_record"
    __table_args__ = (
        CheckConstraint("isbn IS NULL OR isbn ~ '^(97[89])?[0-9]{9}[0-9X]$'", name="isbn_format"),
        CheckConstraint("year IS NULL OR year BETWEEN 1000 AND 2200", name="year"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 12", name="grade"),
        CheckConstraint(
            "kind = 'textbook' OR (grade IS NULL AND school_subject IS NULL)",
            name="textbook_fields",
        ),
        CheckConstraint("length(btrim(title)) > 0", name="title"),
        Index("uq_bib_record_isbn", "isbn", unique=True, postgresql_where=text("isbn IS NOT NULL")),
        # The words, and the filters a search combines with them (btree_gin, migration 0043):
        # a word with a filter reads only the records that have both from the index.
        Index(
            "ix_bib_record_search",
            "search_vector",
            "language",
            "kind",
            "open_access",
            postgresql_using="gin",
        ),
        # OAI-PMH harvests in datestamp order, selective by date.
        Index("ix_bib_record_updated", "updated_at", "id"),
        Index("ix_bib_record_textbook", "grade", "school_subject", "language", "id"),
        # The standing order a relevance search walks backwards (migration 0042).
        Index("ix_bib_record_rank", "rank_key", "id"),
    )

    # Server-made values (ids, stamps, defaults) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("BibRecord")
    kind: Mapped[BibKind] = enum_column(BibKind)
    title: Mapped[str] = mapped_column(String(500))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    authors: Mapped[list[str]] = mapped_column(
        ARRAY(String(200)), server_default=text("'{}'::varchar[]")
    )
    isbn: Mapped[str | None] = mapped_column(String(13))
    language: Mapped[Language] = enum_column(Language)
    publisher: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(SmallInteger)
    subjects: Mapped[list[str]] = mapped_column(
        ARRAY(String(200)), server_default=text("'{}'::varchar[]")
    )
    audience: Mapped[Audience | None] = enum_column(Audience, nullable=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Textbooks: the school subject, grade and standard they serve.
    school_subject: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    curriculum: Mapped[Curriculum | None] = enum_column(Curriculum, nullable=True)
    # At least one digital file anyone may read (kept by the step that attaches files).
    open_access: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Where an imported record came from: the library's control number (MARC 001).
    source_id: Mapped[str | None] = mapped_column(String(100))
    # The searchable text, written by the catalogue step: ``words`` as written (title,
    # authors, subjects, publisher), ``folded`` the same in one Latin spelling so that the
    # Cyrillic and Latin spellings of a Kyrgyz name meet (resolvers/library/search.py).
    words: Mapped[str] = mapped_column(Text, server_default=text("''"))
    folded: Mapped[str] = mapped_column(Text, server_default=text("''"))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('russian'::regconfig, words), 'A') || "
            "to_tsvector('english'::regconfig, words) || "
            "to_tsvector('simple'::regconfig, folded)",
            persisted=True,
        ),
    )
    # The latest school year the ministry approved this textbook for (a trigger on
    # ``textbook_approval`` keeps it, migration 0042); null when never approved.
    approved_year: Mapped[int | None] = mapped_column(SmallInteger)
    # The catalogue's standing order, best first when walked backwards with ``id``: open to
    # all, then the latest approval, then the newest edition (resolvers/library/search.py).
    rank_key: Mapped[int] = mapped_column(
        Integer,
        Computed(
            "CASE WHEN open_access THEN 16777216 ELSE 0 END"
            " + COALESCE(approved_year, 0) * 4096 + COALESCE(year, 0)",
            persisted=True,
        ),
    )


class LibraryWord(Base):
    """Every folded word of the catalogue once (kept by a trigger on ``bib_record``, migration
    0012): a search word with a typo is matched to the catalogue's words by trigram
    similarity here, in a table of words rather than of records, and the words found join
    the full-text query (resolvers/library/search.py)."""

    __tablename__ = "library_word"
    __table_args__ = (
        Index("ix_library_word_trgm", text("word gin_trgm_ops"), postgresql_using="gin"),
    )

    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class LibraryLexeme(Base):
    """Every lexeme of the catalogue's search vectors that begins with a folded letter or digit
    (``[0-9a-z]``), once, in byte order (kept by a trigger on ``bib_record``, migration 0043):
    a search word matched as a prefix (``kitep:*``) is read from the GIN index as the few
    lexemes it begins, which the index intersects cheaply, instead of a prefix scan of the
    index (resolvers/library/windows.py). A lexeme no record has any more stays: it matches
    nothing, so the search is the same."""

    __tablename__ = "library_lexeme"

    lexeme: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)


class LibraryCatalogueVersion(Base):
    """One row: a value every write to ``bib_record`` or ``textbook_approval`` changes (a
    statement trigger, migration 0036), so a worker keeps search answers per version and
    knows when they are stale (resolvers/library/windows.py)."""

    __tablename__ = "library_catalogue_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BibFile(Base):
    """A digital file (PDF, EPUB) of a record, in the hub's file store, with who may read it
    and under what licence."""

    __tablename__ = "bib_file"
    __table_args__ = (
        CheckConstraint(
            "(access = 'institution') = (institution_id IS NOT NULL)", name="institution_access"
        ),
        Index("ix_bib_file_record", "record_id", "id"),
    )

    # Server-made values (ids, stamps, defaults) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("BibFile")
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(ForeignKey("file_object.sha256"))
    format: Mapped[FileFormat] = enum_column(FileFormat)
    size_bytes: Mapped[int] = mapped_column(Integer)
    access: Mapped[FileAccess] = enum_column(FileAccess)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    licence: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TextbookApproval(Base):
    """The ministry's approval of a textbook for a school year (the year it starts)."""

    __tablename__ = "textbook_approval"
    __table_args__ = (
        CheckConstraint("school_year BETWEEN 2000 AND 2100", name="school_year"),
        Index("uq_textbook_approval", "record_id", "school_year", unique=True),
        Index("ix_textbook_approval_year", "school_year", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id", ondelete="CASCADE"))
    school_year: Mapped[int] = mapped_column(SmallInteger)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LibraryPolicy(Base):
    """Circulation rules of a library (an institution), or the hub's default (no institution):
    policy rows, not constants, since each library sets its own."""

    __tablename__ = "library_policy"
    __table_args__ = (
        CheckConstraint("loan_days BETWEEN 1 AND 400", name="loan_days"),
        CheckConstraint("max_renewals BETWEEN 0 AND 20", name="max_renewals"),
        CheckConstraint("max_loans BETWEEN 1 AND 500", name="max_loans"),
        CheckConstraint("hold_pickup_days BETWEEN 1 AND 60", name="hold_pickup_days"),
        Index(
            "uq_library_policy_institution",
            text("coalesce(institution_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    loan_days: Mapped[int] = mapped_column(SmallInteger)
    max_renewals: Mapped[int] = mapped_column(SmallInteger)
    max_loans: Mapped[int] = mapped_column(SmallInteger)
    hold_pickup_days: Mapped[int] = mapped_column(SmallInteger)


class LibraryItem(Timestamped, Base):
    """One copy of a record at an institution's library, known by its barcode there."""

    __tablename__ = "library_item"
    __table_args__ = (
        CheckConstraint("barcode ~ '^[0-9A-Za-z-]{1,40}$'", name="barcode_format"),
        Index("uq_library_item_barcode", "institution_id", "barcode", unique=True),
        Index("ix_library_item_record", "record_id", "institution_id", "status"),
    )

    # Server-made values (ids, stamps, defaults) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("LibraryItem")
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    barcode: Mapped[str] = mapped_column(String(40))
    status: Mapped[ItemStatus] = enum_column(ItemStatus, server_default=text("'available'"))
    shelf_mark: Mapped[str | None] = mapped_column(String(60))
    acquired_on: Mapped[date | None] = mapped_column(Date)


class LibraryHolding(Base):
    """How many copies of a record an institution holds and how many are out: kept by
    triggers on ``library_item`` (migration 0012), read by the textbook provision report and
    the catalogue's availability."""

    __tablename__ = "library_holding"
    __table_args__ = (Index("ix_library_holding_record", "record_id", "institution_id"),)

    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id"), primary_key=True)
    held: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    on_loan: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    available: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Loan(Base):
    """A copy lent to a person: open until returned."""

    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("returned_at IS NULL OR returned_at >= loaned_at", name="period"),
        CheckConstraint("renewals >= 0", name="renewals"),
        # One open loan per copy, whatever two desks do at the same moment.
        Index(
            "uq_loan_open_item",
            "item_id",
            unique=True,
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index(
            "ix_loan_open_institution",
            "institution_id",
            "due_on",
            "id",
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index("ix_loan_person", "person_id", "id"),
        Index("ix_loan_due_open", "due_on", postgresql_where=text("returned_at IS NULL")),
        # A borrower's open loans at a library (the loan limit at checkout), counted from
        # the index alone.
        Index(
            "ix_loan_open_borrower",
            "person_id",
            "institution_id",
            postgresql_where=text("returned_at IS NULL AND NOT textbook_issue"),
        ),
    )

    # Server-made values (ids, stamps, defaults) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Loan")
    item_id: Mapped[int] = mapped_column(ForeignKey("library_item.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    loaned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    due_on: Mapped[date] = mapped_column(Date)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    renewals: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    # Set by the overdue job the first day it finds the loan past due.
    overdue_since: Mapped[date | None] = mapped_column(Date)
    # A textbook set issued to a class at the start of a school year.
    textbook_issue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Hold(Base):
    """A person waiting for a copy of a record at a library: a queue per title, first come
    first served; a copy set aside waits ``hold_pickup_days`` before the hold expires."""

    __tablename__ = "library_hold"
    __table_args__ = (
        CheckConstraint("(status = 'ready') = (item_id IS NOT NULL)", name="ready_item"),
        CheckConstraint("(status = 'ready') = (expires_on IS NOT NULL)", name="ready_expiry"),
        Index(
            "uq_library_hold_open",
            "record_id",
            "institution_id",
            "person_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'ready')"),
        ),
        Index(
            "ix_library_hold_queue",
            "record_id",
            "institution_id",
            "placed_at",
            "id",
            postgresql_where=text("status = 'waiting'"),
        ),
        Index(
            "uq_library_hold_item",
            "item_id",
            unique=True,
            postgresql_where=text("status = 'ready'"),
        ),
        Index("ix_library_hold_person", "person_id", "id"),
    )

    # Server-made values (ids, stamps, defaults) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Hold")
    record_id: Mapped[int] = mapped_column(ForeignKey("bib_record.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[HoldStatus] = enum_column(HoldStatus, server_default=text("'waiting'"))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    item_id: Mapped[int | None] = mapped_column(ForeignKey("library_item.id"))
    expires_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TextbookPupils(Base):
    """How many pupils an institution has open enrollments for in each grade: the need side
    of the textbook fund, kept by statement triggers on ``enrollment`` (migration 0034) so
    that provision reads one row per school and grade instead of every enrollment."""

    __tablename__ = "textbook_pupils"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    grade_level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pupils: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class TextbookNeed(Base):
    """The textbook fund of a school, grade and textbook language for a school year: copies
    needed (pupils times approved titles, for the school's language of instruction), held,
    issued and covered (``least(held, needed)`` per title, summed), kept by triggers
    (migration 0034) on enrollments, holdings, approvals, records and institutions, so the
    country's and a region's provision read a few thousand rows."""

    __tablename__ = "textbook_need"

    school_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    language: Mapped[Language] = enum_column(Language, primary_key=True)
    needed: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer)
    covered: Mapped[int] = mapped_column(Integer)
