"""Shared test fixtures. The database is whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.shared_data import shared_data_dir

TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public datasets, read where they live (never copied into the repo)."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


def using_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
