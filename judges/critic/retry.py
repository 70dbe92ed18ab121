"""Which failures are retried, and how long to wait before the next attempt.

The openai client's own retries are switched off (`max_retries=0`): every
attempt must pass the shared rate limiter and be counted, and `Retry-After`
above a bound must fail instead of blocking a worker. Backoff is exponential
with "equal jitter" (half fixed, half random) and a cap; a `Retry-After`
(`retry-after-ms`, seconds, or an HTTP date) replaces the computed delay.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# 408 Request Timeout, 409 (OpenAI: lock conflict), 429, and every 5xx are transient.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait as the server asks, or None when it does not say (or says nonsense)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if (ms := lower.get("retry-after-ms")) is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = lower.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        now = time.time() if now is None else now
        return max(0.0, email.utils.mktime_tz(parsed) - now)
    return value if math.isfinite(value) and value >= 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    retry_after_max: float = 120.0

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Delay before retry `retry_number` (1 for the first retry) when the server gave none."""
        base = min(self.maximum, self.initial * 2 ** (retry_number - 1))
        return base / 2 + rand() * base / 2
