"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.orm import mapped_column


def enum_column(enum_cls: type[enum.StrEnum], **kwargs: Any) -> Any:
    """A VARCHAR column with a CHECK constraint holding the enum's lower-case values.

    Not a native PostgreSQL enum: adding a value later is a constraint change, not a type rewrite.
    """
    return mapped_column(
        Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=32,
            name=enum_cls.__name__.lower(),
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        **kwargs,
    )
