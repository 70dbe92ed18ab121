"""Rate limits on failed logins and new participant accounts: fixed windows, counted atomically.

A limit is N events per S seconds for one scope and one subject (a client
address, a username), set in `settings.RATE_LIMITS` as "N/S" (or "off").
Windows are fixed (they start at multiples of S), so a subject gets at most
2N events across a window boundary.

Counts live in Redis when it is configured (`settings.RATELIMIT_REDIS_URL`:
`CONCORDANCE_RATELIMIT_REDIS_URL`, else the Redis the critic or Celery use):
INCR and EXPIRE in one MULTI, shared by every web process. Otherwise they
live in the database (`RateLimitWindow`), incremented by an UPDATE under the
row's lock. django-ratelimit was the candidate library, but it needs a cache
with an atomic increment, which Django's database cache does not have, so on
the embedded default a concurrent burst would be under-counted. If Redis
cannot be reached, a limit lets the request through and logs it (a Redis
outage must not lock everyone out).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from studyapp.models import RateLimitWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def rate_parse(text: str) -> Rate | None:
    """ "20/600" is 20 events per 600 seconds; "off", "" or "0" switch the limit off."""
    text = (text or "").strip().lower()
    if text in {"", "0", "off", "none"}:
        return None
    limit, _, seconds = text.partition("/")
    rate = Rate(int(limit), int(seconds or 60))
    if rate.limit < 1 or rate.seconds < 1:
        raise ValueError(f"a rate is N/SECONDS with both at least 1, not {text!r}")
    return rate


def _rate(scope: str) -> Rate | None:
    return rate_parse(settings.RATE_LIMITS.get(scope, ""))


def client_ip(request: HttpRequest | Any) -> str:
    """The client's address: REMOTE_ADDR, or the address a trusted proxy put in X-Forwarded-For.

    With `RATELIMIT_TRUSTED_PROXIES` = n proxies in front, the n-th address
    from the right of X-Forwarded-For is the one the outermost of them saw.
    """
    meta = request.META
    proxies = settings.RATELIMIT_TRUSTED_PROXIES
    if proxies > 0:
        chain = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(chain) >= proxies:
            return chain[-proxies]
    return str(meta.get("REMOTE_ADDR", ""))


def _key(scope: str, subject: str) -> str:
    return hashlib.sha256(f"{scope}\0{subject}".encode()).hexdigest()


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _count(scope: str, subject: str, rate: Rate, *, add: bool, now: float) -> tuple[int, int] | None:
    """The window's count after adding one (or as it is), and seconds until the window ends."""
    window = int(now // rate.seconds) * rate.seconds
    left = max(1, math.ceil(window + rate.seconds - now))
    key = _key(scope, subject)
    url = settings.RATELIMIT_REDIS_URL
    if url:
        name = f"concordance:ratelimit:web:{key[:32]}:{window}"
        try:
            client = _redis(url)
            if not add:
                return int(client.get(name) or 0), left
            pipe = client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, rate.seconds + 1)
            return int(pipe.execute()[0]), left
        except redis.RedisError as error:
            log.warning("rate limit %s not counted: Redis at %s: %s", scope, url, error)
            return None
    rows = RateLimitWindow.objects.filter(key=key, window=window)
    if not add:
        return int(rows.values_list("count", flat=True).first() or 0), left
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            expires = datetime.fromtimestamp(window + rate.seconds, tz=UTC)
            try:
                with transaction.atomic():
                    RateLimitWindow.objects.create(key=key, window=window, count=1, expires_at=expires)
            except IntegrityError:  # made meanwhile by a concurrent request
                rows.update(count=F("count") + 1)
            RateLimitWindow.objects.filter(expires_at__lt=datetime.fromtimestamp(now, tz=UTC)).delete()
        return int(rows.values_list("count", flat=True).get()), left


def _over(scope: str, subject: str, *, add: bool, now: float | None) -> int | None:
    rate = _rate(scope)
    if rate is None:
        return None
    counted = _count(scope, subject, rate, add=add, now=time.time() if now is None else now)
    if counted is None:
        return None
    count, left = counted
    # A hit is over when it is past the limit; a look, when the next hit would be.
    return left if count > rate.limit or (not add and count == rate.limit) else None


def ratelimit_hit(*, scope: str, subject: str, now: float | None = None) -> int | None:
    """Count one event; the seconds to wait when it is over the limit, else None."""
    return _over(scope, subject, add=True, now=now)


def ratelimit_wait(*, scope: str, subject: str, now: float | None = None) -> int | None:
    """The seconds to wait when the window's events already reach the limit (counts nothing)."""
    return _over(scope, subject, add=False, now=now)


# Failed logins count per client address and per username (any login: the form, the
# admin, HTTP Basic on the API); a login is refused while either is used up.
LOGIN_IP, LOGIN_USER, PARTICIPANT_IP = "login_ip", "login_user", "participant_ip"


def login_wait(*, request: Any, username: str) -> int | None:
    """Seconds until this client may try to log in as this user again, or None."""
    waits = [ratelimit_wait(scope=LOGIN_USER, subject=(username or "").strip().lower())]
    if request is not None:
        waits.append(ratelimit_wait(scope=LOGIN_IP, subject=client_ip(request)))
    return max((w for w in waits if w), default=None)


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """`user_login_failed` receiver: count the failure for the address and the username."""
    username = str(credentials.get("username", "") or "")
    if username:
        ratelimit_hit(scope=LOGIN_USER, subject=username.strip().lower())
    if request is not None:
        ratelimit_hit(scope=LOGIN_IP, subject=client_ip(request))


def wait_text(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"


__all__ = [
    "LOGIN_IP",
    "LOGIN_USER",
    "PARTICIPANT_IP",
    "Rate",
    "client_ip",
    "login_failed",
    "login_wait",
    "rate_parse",
    "ratelimit_hit",
    "ratelimit_wait",
    "wait_text",
]
