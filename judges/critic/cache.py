"""A cache of finished completions keyed by (endpoint, model, prompt, parameters).

Redis-backed: every worker on every host sees the same entries, writes are
atomic, and Redis is already there for Celery and the rate limiter; a disk
cache would be per host. Lookups for a whole judge run go in one MGET per 500
keys and writes are batched, so the cache costs no round trip per item.
Entries are small JSON values kept without expiry (the Judgment rows in the
database remain the durable record; losing the cache only costs calls). Only
completions that produced a valid verdict are stored, so a failed item is
asked again on the next run.
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
    async def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]: ...
    async def set(self, key: str, value: dict[str, Any]) -> None: ...
    async def aclose(self) -> None: ...


class RedisResponseCache:
    """Writes are buffered and sent `flush_every` at a time (MSET) and on close: a crash
    loses at most that many entries, which only costs calls again."""

    def __init__(self, redis_url: str, prefix: str = "concordance:critic:cache:", flush_every: int = 64):
        self.flush_every = flush_every
        self._pending: dict[str, str] = {}
        # a blocking pool: many coroutines wait for a connection instead of failing
        pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=32, timeout=30)
        self._redis = redis.asyncio.Redis(connection_pool=pool)
        self.prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        if (pending := self._pending.get(self.prefix + key)) is not None:
            return json.loads(pending)
        raw = await self._redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The entries found among `keys`, in round trips of 500 keys (MGET)."""
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            values = await self._redis.mget([self.prefix + k for k in chunk])
            for k, v in zip(chunk, values, strict=True):
                v = v or self._pending.get(self.prefix + k)
                if v:
                    found[k] = json.loads(v)
        return found

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._pending[self.prefix + key] = json.dumps(value)
        if len(self._pending) >= self.flush_every:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            await self._redis.mset(pending)

    async def aclose(self) -> None:
        try:
            await self.flush()
        finally:
            await self._redis.aclose()


class MemoryResponseCache:
    """For use without Redis (a notebook): lives as long as the judge object."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    async def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return {k: self._data[k] for k in keys if k in self._data}

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value

    async def aclose(self) -> None:
        pass
