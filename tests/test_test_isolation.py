"""The suite beside other test runs on one machine (issue 12, finding 11)."""

from __future__ import annotations

import pytest


def test_the_run_keeps_its_database_outside_pytests_shared_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # pytest's shared pytest-of-<user> folder keeps only the last three runs: a fourth run
    # beside this one would delete the embedded PostgreSQL's data under it.
    assert "pytest-of-" not in str(tmp_path_factory.getbasetemp())
