"""A cache of finished completions keyed by (endpoint, model, prompt, parameters).

Redis-backed: every worker on every host sees the same entries, writes are
atomic, and Redis is already there for Celery and the rate limiter; a disk
cache would be per host. Entries are small JSON values kept without expiry
(the Judgment rows in the database remain the durable record; losing the
cache only costs calls). Only completions that produced a valid verdict are
stored, so a failed item is asked again on the next run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import redis.asyncio


def request_key(endpoint: str, body: dict[str, Any], part: int = 0) -> str:
    """The cache key of a request: the endpoint and the whole request body (model,
    messages, sampling parameters, response format); `part` tells repeated samples apart."""
    canonical = json.dumps({"endpoint": endpoint, "body": body, "part": part}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...
    async def set(self, key: str, value: dict[str, Any]) -> None: ...
    async def aclose(self) -> None: ...


class RedisResponseCache:
    def __init__(self, redis_url: str, prefix: str = "concordance:critic:cache:"):
        self._redis = redis.asyncio.Redis.from_url(redis_url)
        self.prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: dict[str, Any]) -> None:
        await self._redis.set(self.prefix + key, json.dumps(value))

    async def aclose(self) -> None:
        await self._redis.aclose()


class MemoryResponseCache:
    """For use without Redis (a notebook): lives as long as the judge object."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value

    async def aclose(self) -> None:
        pass
