"""Who may call a field, declared on the field (strawberry's ``permission_classes``).

The coarse gates live here: a caller must be signed in, or (for a field only one kind of
caller reads) the domain's question on the caller must answer yes. Finer rules (which
institution, which child) are the domains' policy functions and row rules, since they depend on
the object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from strawberry.permission import BasePermission

from resolvers.access import Principal
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


class Allowed(BasePermission):
    """A field only the callers its question answers yes for may call (auditors, the ministry):
    others, anonymous ones included, get a top-level FORBIDDEN and the field runs nothing."""

    message = "You may not read this"
    question: ClassVar[Callable[[Principal], bool]]

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return type(self).question(info.context.principal)

    def on_unauthorized(self) -> None:
        raise RequestError(ErrorCode.FORBIDDEN, self.message)


@cache
def allowed(question: Callable[[Principal], bool], message: str) -> type[Allowed]:
    """:class:`Allowed` for the callers ``question`` (a domain's policy function) lets in, with
    the message the others get: ``allowed(can_read_audit, "Only auditors read the audit
    trail")``."""
    return type("Allowed", (Allowed,), {"question": staticmethod(question), "message": message})
