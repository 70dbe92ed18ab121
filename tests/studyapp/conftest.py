"""Fixtures for the annotator web app: a small study with raters ready to work."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from studyapp.models import Rater, Study
from studyapp.services.participants import rater_for_user
from tests.factories import (
    CriterionFactory,
    ReasoningItemFactory,
    RubricFactory,
    StudyFactory,
    SummaryItemFactory,
    UserFactory,
)
from tests.support.workers import broker, workers  # noqa: F401  (real Celery workers)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limits_in_the_test_database(settings) -> None:
    """Rate limits count in the test database (emptied after each test) unless a test names a Redis."""
    settings.RATELIMIT_REDIS_URL = None


@pytest.fixture
def make_study(db: None) -> Callable[..., Study]:
    """A study with `n` reasoning items of `steps` steps (and optional summaries)."""

    def make(n: int = 4, steps: int = 3, summaries: int = 0, **fields: object) -> Study:
        study = StudyFactory(**fields)
        for _ in range(n):
            ReasoningItemFactory(study=study, steps=steps)
        if summaries:
            rubric = RubricFactory(study=study)
            CriterionFactory(rubric=rubric, name="accuracy", position=0)
            CriterionFactory(rubric=rubric, name="usefulness", position=1)
            for _ in range(summaries):
                SummaryItemFactory(study=study)
        return study

    return make


@pytest.fixture
def make_rater(db: None) -> Callable[..., Rater]:
    def make(study: Study, username: str | None = None) -> Rater:
        user = UserFactory(**({"username": username} if username else {}))
        return rater_for_user(study=study, user=user)

    return make
