"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Computed, Enum, Text
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


def global_id_sql(type_name: str) -> str:
    """``resolvers.relay.encode_id`` in SQL: unpadded base64url of ``Type:id``. The text is
    ASCII and under 58 bytes, so a cast gives its bytes and base64 has no line breaks."""
    return (
        f"rtrim(translate(encode(CAST(('{type_name}:' || id::text) AS bytea), 'base64'), "
        "'+/', '-_'), '=')"
    )


def global_id_column(type_name: str) -> Any:
    """The row's global ID, stored by PostgreSQL as the row is written: the compiled path
    (schema/compiled/) reads it instead of encoding thousands of IDs per response."""
    return mapped_column(Text, Computed(global_id_sql(type_name), persisted=True))
