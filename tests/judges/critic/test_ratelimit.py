"""The shared rate limit: GCRA decisions on a given clock, and two processes
sharing one bucket through Redis."""

from __future__ import annotations

import itertools
import multiprocessing
from typing import Any

import pytest

from judges.critic.config import CriticConfig
from judges.critic.judge import CriticJudge
from judges.critic.ratelimit import RedisRateLimiter
from tests.judges.critic.conftest import reasoning_task
from tests.support.openai_server import critique_responder

T0 = 1_000_000.0  # a fixed clock, in seconds


def test_requests_per_minute_with_a_burst(redis_url):
    # 60 rpm = one request a second; a burst of 2 seconds lets two through at once
    a = RedisRateLimiter(redis_url, "ep", rpm=60, burst_seconds=2)
    assert a.try_acquire(now=T0).allowed
    assert a.try_acquire(now=T0).allowed
    denied = a.try_acquire(now=T0)
    assert not denied.allowed and denied.wait == pytest.approx(1.0)
    assert not a.try_acquire(now=T0 + 0.5).allowed
    assert a.try_acquire(now=T0 + 1.0).allowed
    assert not a.try_acquire(now=T0 + 1.0).allowed


def test_two_limiters_on_one_endpoint_share_the_bucket(redis_url):
    a = RedisRateLimiter(redis_url, "shared", rpm=60)
    b = RedisRateLimiter(redis_url, "shared", rpm=60)
    other = RedisRateLimiter(redis_url, "elsewhere", rpm=60)
    assert a.try_acquire(now=T0).allowed
    assert not b.try_acquire(now=T0).allowed
    assert other.try_acquire(now=T0).allowed
    assert b.try_acquire(now=T0 + 1).allowed


def test_tokens_per_minute(redis_url):
    # 6000 tpm = 100 tokens a second, burst one second
    lim = RedisRateLimiter(redis_url, "tok", tpm=6000)
    assert lim.try_acquire(60, now=T0).allowed
    denied = lim.try_acquire(60, now=T0)
    assert not denied.allowed and denied.wait == pytest.approx(0.2)
    assert lim.try_acquire(60, now=T0 + 0.2).allowed
    # a request larger than the burst still goes through once the bucket is empty
    assert not lim.try_acquire(1000, now=T0 + 0.5).allowed
    assert lim.try_acquire(1000, now=T0 + 1.2).allowed


def test_a_denied_request_takes_nothing_from_either_bucket(redis_url):
    lim = RedisRateLimiter(redis_url, "both", rpm=600, tpm=6000)
    assert lim.try_acquire(100, now=T0).allowed
    # the token bucket says no: the request bucket must not be charged either
    assert not lim.try_acquire(100, now=T0 + 0.1).allowed
    assert lim.try_acquire(10, now=T0 + 0.1).allowed


def _acquire_many(redis_url: str, n: int, out: Any) -> None:
    lim = RedisRateLimiter(redis_url, "procs", rpm=1200, burst_seconds=0.01)
    out.put([lim.acquire().now for _ in range(n)])
    lim.close()


def test_two_processes_never_exceed_the_rate(redis_url):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_acquire_many, args=(redis_url, 6, out)) for _ in range(2)]
    for p in procs:
        p.start()
    grants = sorted(out.get(timeout=60) + out.get(timeout=60))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(grants) == 12
    # on Redis's clock, consecutive grants are at least one interval (60/1200 s) apart
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 0.05 - 1e-6


def _judge_in_process(config: dict[str, Any], ids: list[str], out: Any) -> None:
    judge = CriticJudge.from_config(config)
    verdicts = judge.judge([reasoning_task(i) for i in ids])
    out.put((sum(v.ok for v in verdicts), judge.stats["calls"], judge.grants))


def test_judges_in_two_processes_share_the_endpoint_limit(openai_server, critic_config, redis_url):
    openai_server.responder = critique_responder
    config = {**critic_config, "rpm": 1200, "burst_seconds": 0.01, "redis_url": redis_url}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_judge_in_process, args=(config, [f"{p}-{i}" for i in range(5)], out))
        for p in "ab"
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60), out.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
    assert [r[:2] for r in results] == [(5, 5), (5, 5)]
    assert openai_server.calls() == 10
    # both processes drew from the one bucket: on Redis's clock, the ten grants are
    # at least one interval (60/1200 s) apart, whichever process got them
    grants = sorted(results[0][2] + results[1][2])
    assert len(grants) == 10
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 0.05 - 1e-6


def test_a_limit_needs_redis(critic_config):
    judge = CriticJudge(CriticConfig.from_mapping({**critic_config, "rpm": 10}))
    with pytest.raises(ValueError, match="rpm/tpm need a shared Redis"):
        judge.judge([reasoning_task()])
