"""Fixtures of the content tests: the pair of hubs (with and without the compiled path) that
tests/test_compiled.py compares."""

from tests.test_compiled import pair

__all__ = ["pair"]
