"""The compiled path: hot read operations answered by one SQL statement.

For a query whose every field is one the compiler knows (people, institutions, enrollments,
guardianship and geography, their relations and connections; the portals' lesson lists),
PostgreSQL builds the JSON of the whole selection, global IDs and cursors' values included,
and the hub sends it on as it comes but for sealing the cursors (``sql.seal_cursors``, a few
microseconds each): no per-field Python work, one statement whatever the depth. The statement
is made of the
same parts as the normal path's: the filters, orderings and page rules of :mod:`resolvers`,
and the domains' row rules, so a caller reads exactly what they would read through the
resolvers. Tests run every supported shape through both paths and compare.

Anything else (a field it does not know, ``last``/``before``, directives, a node of another
type, an argument the resolvers would refuse) is not compiled: the request takes the normal
path, which also produces every error.

Its parts: ``plan`` (which documents it answers, and their shapes), ``builder`` (the SQL/JSON
statement), ``sql`` (the small SQL pieces the statement is made of), ``cache`` (plans per query
text and statements per shape of request) and ``endpoint`` (the HTTP half, called by the
GraphQL view before the normal path).
"""

from schema.compiled.cache import Compiler
from schema.compiled.plan import Plan, Unsupported

__all__ = ["Compiler", "Plan", "Unsupported"]
