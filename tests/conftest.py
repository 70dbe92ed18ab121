"""Shared test fixtures. The database is whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CONCORDANCE_SHARED_DATA", ROOT.parent / "shared" / "data"))
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public datasets, read where they live (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"shared datasets not found at {SHARED_DATA} (set CONCORDANCE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


def using_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
