"""Who may call a field, declared on the field (strawberry's ``permission_classes``).

The coarse gate lives here: a caller must be signed in. Finer rules (which institution, which
child) are the domains' policy functions and row rules, since they depend on the object.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from resolvers.context import Info
from resolvers.errors import ErrorCode, RequestError


class SignedIn(BasePermission):
    """Mutations, and reads of non-public lists, need a caller: anonymous requests get a
    top-level UNAUTHENTICATED error and the field runs nothing."""

    message = "Sign in to change data"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return not info.context.principal.is_anonymous

    def on_unauthorized(self) -> None:
        raise RequestError(ErrorCode.UNAUTHENTICATED, self.message)


@cache
def signed_in(message: str) -> type[SignedIn]:
    """:class:`SignedIn` with the message a list gives an anonymous caller (one class per
    message, so the field's declaration reads as what it answers)."""
    return type("SignedIn", (SignedIn,), {"message": message})
