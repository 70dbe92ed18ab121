"""Shared test fixtures. The database is whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from analysis.shared_data import shared_data_dir

TEST_DATA = Path(__file__).resolve().parent / "data"

# bin/test (and so CI) runs the property tests on a fixed sequence of examples, so a
# stop is judged on the code, not on the draw; HYPOTHESIS_PROFILE=explore searches anew.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "explore"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On SQLite the test database is a file (in WAL mode, as the embedded default runs),
    not Django's in-memory one, so that worker processes a test starts can share it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


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


@pytest.fixture(scope="session", autouse=True)
def _static_files_by_source_name() -> Iterator[None]:
    """Pages rendered in this process link static files by their source names, which the
    test servers serve from the apps' folders. The collected, hashed files that production
    serves are tested through real servers (tests/studyapp/test_serve.py, tests/config/)."""
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield
