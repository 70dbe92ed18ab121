"""Pytest fixtures for the fake OpenAI server and a Redis database for tests.

Import them into a conftest: `from tests.support.fixtures import *`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.support.openai_server import FakeOpenAI

__all__ = ["_fake_openai_session", "openai_server", "redis_url"]

# DB 5 is this part of the suite's; DB 0 is never used by tests.
TEST_REDIS_URL = os.environ.get("CONCORDANCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture(scope="session")
def _fake_openai_session() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_server(_fake_openai_session: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The running fake server with an empty script and no recorded requests."""
    _fake_openai_session.reset()
    yield _fake_openai_session
    _fake_openai_session.reset()


def _clear(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("concordance:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL whose `concordance:*` keys are cleared before and after the test."""
    _clear(TEST_REDIS_URL)
    yield TEST_REDIS_URL
    _clear(TEST_REDIS_URL)
