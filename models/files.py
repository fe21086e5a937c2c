"""Files held by the hub (lesson media, library books, homework), addressed by the SHA-256 of
their content: the bytes live in the file store (a folder or an S3-compatible bucket), never in
PostgreSQL; this table knows each file once, whatever refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class FileObject(Base):
    """One stored file: its content hash, size and the media type its bytes show."""

    __tablename__ = "file_object"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
