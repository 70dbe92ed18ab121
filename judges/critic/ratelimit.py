"""A rate limit per endpoint (requests and tokens per minute) shared by every
worker through Redis.

Celery's `rate_limit` is per worker process, so N workers would send N times
the provider's limit. Here all processes share two GCRA buckets (the Generic
Cell Rate Algorithm: one "theoretical arrival time" per bucket) updated
atomically by one Lua script, on Redis's own clock so that hosts need no clock
agreement. A request passes only when both buckets have room; otherwise the
caller learns how long to wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import dataclass

import redis
import redis.asyncio

# KEYS: request bucket, token bucket.
# ARGV: request interval (us), request burst window (us), token cost (us),
#       token burst window (us), now (us, "" = Redis TIME).
# A cost of 0 switches that bucket off. Returns {allowed, wait_us, now_us}.
GCRA_LUA = """
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local wait = 0
local costs = {tonumber(ARGV[1]), tonumber(ARGV[3])}
local bursts = {tonumber(ARGV[2]), tonumber(ARGV[4])}
local new_tats = {}
for i = 1, 2 do
  local cost, burst = costs[i], bursts[i]
  if cost > 0 then
    if burst < cost then burst = cost end
    local tat = tonumber(redis.call('GET', KEYS[i]) or now)
    if tat < now then tat = now end
    local new_tat = tat + cost
    local w = new_tat - burst - now
    if w > wait then wait = w end
    new_tats[i] = new_tat
  end
end
if wait > 0 then
  return {0, wait, now}
end
for i = 1, 2 do
  if new_tats[i] then
    local ttl = math.ceil((new_tats[i] - now) / 1000000) + 1
    redis.call('SET', KEYS[i], string.format('%d', new_tats[i]), 'EX', ttl)
  end
end
return {1, 0, now}
"""


@dataclass(frozen=True)
class Grant:
    allowed: bool
    wait: float  # seconds to wait before asking again (0 when allowed)
    now: float  # Redis clock, seconds


class RedisRateLimiter:
    """Requests-per-minute and tokens-per-minute buckets for one endpoint."""

    def __init__(
        self,
        redis_url: str,
        key: str,
        *,
        rpm: int | None = None,
        tpm: int | None = None,
        burst_seconds: float = 1.0,
    ):
        if rpm is None and tpm is None:
            raise ValueError("a rate limiter needs rpm or tpm")
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.keys = [f"concordance:ratelimit:{digest}:req", f"concordance:ratelimit:{digest}:tok"]
        self.redis_url = redis_url
        self.rpm, self.tpm = rpm, tpm
        # a bucket lets through at most `burst_seconds` worth of its limit at once (at least 1 unit)
        self._req_interval = 60e6 / rpm if rpm else 0.0
        self._req_burst = max(self._req_interval, burst_seconds * 1e6) if rpm else 0.0
        self._tok_interval = 60e6 / tpm if tpm else 0.0
        self._tok_burst = burst_seconds * 1e6 if tpm else 0.0  # the script widens it to one request
        self._sync: redis.Redis | None = None
        self._async: redis.asyncio.Redis | None = None

    def _args(self, tokens: int, now: float | None) -> list[str]:
        return [
            str(int(self._req_interval)),
            str(int(self._req_burst)),
            str(int(self._tok_interval * tokens)),
            str(int(self._tok_burst)),
            "" if now is None else str(int(now * 1e6)),
        ]

    @staticmethod
    def _grant(res: list[int]) -> Grant:
        return Grant(bool(res[0]), res[1] / 1e6, res[2] / 1e6)

    def try_acquire(self, tokens: int = 0, *, now: float | None = None) -> Grant:
        """One attempt; `now` (seconds) overrides Redis's clock, for tests."""
        if self._sync is None:
            self._sync = redis.Redis.from_url(self.redis_url, socket_timeout=10, socket_connect_timeout=5)
        res = self._sync.eval(GCRA_LUA, 2, *self.keys, *self._args(tokens, now))
        return self._grant(res)

    def acquire(self, tokens: int = 0) -> Grant:
        """Block until the request may go."""
        while True:
            grant = self.try_acquire(tokens)
            if grant.allowed:
                return grant
            time.sleep(grant.wait * (1 + 0.1 * random.random()))

    async def try_acquire_async(self, tokens: int = 0) -> Grant:
        if self._async is None:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.redis_url,
                max_connections=32,
                timeout=30,
                socket_timeout=10,
                socket_connect_timeout=5,
            )
            self._async = redis.asyncio.Redis(connection_pool=pool)
        res = await self._async.eval(GCRA_LUA, 2, *self.keys, *self._args(tokens, None))
        return self._grant(res)

    async def acquire_async(self, tokens: int = 0) -> Grant:
        """Wait (without blocking the event loop) until the request may go."""
        while True:
            grant = await self.try_acquire_async(tokens)
            if grant.allowed:
                return grant
            # a little jitter so that waiting coroutines do not all ask again at once
            await asyncio.sleep(grant.wait * (1 + 0.1 * random.random()))

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
