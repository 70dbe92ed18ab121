import email.utils

import pytest

from judges.critic.retry import RetryPolicy, is_transient_status, parse_retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-1"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers, expected):
    assert parse_retry_after(headers) == expected


def test_retry_after_as_http_date():
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == 7.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0


def test_backoff_doubles_with_equal_jitter_and_is_capped():
    policy = RetryPolicy(initial=1.0, maximum=4.0)
    assert [policy.backoff(k, lambda: 0.0) for k in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]
    assert [policy.backoff(k, lambda: 1.0) for k in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 4.0]


def test_transient_statuses():
    assert [s for s in (400, 401, 404, 408, 422, 429, 500, 502, 503) if is_transient_status(s)] == [
        408,
        429,
        500,
        502,
        503,
    ]
