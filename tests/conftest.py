"""Shared test fixtures. The database is whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture
def eager() -> Iterator[None]:
    """Run Celery tasks in the calling process (the app's configuration is read once,
    so Django's override_settings cannot switch this)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
