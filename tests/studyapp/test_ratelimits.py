"""Rate limits on failed logins (form, admin, Basic) and new participant accounts: Redis and database."""

from __future__ import annotations

import base64
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from studyapp.models import ParticipantAccount, RateLimitWindow
from studyapp.ratelimits import Rate, client_ip, rate_parse, ratelimit_hit, ratelimit_wait
from tests.factories import UserFactory
from tests.support.fixtures import redis_url  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

ADDRESS = {"REMOTE_ADDR": "10.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "10.0.0.2"}


@pytest.fixture(params=["database", "redis"])
def backend(request, settings) -> str:
    if request.param == "redis":
        settings.RATELIMIT_REDIS_URL = request.getfixturevalue("redis_url")
    return request.param


def _limits(settings, **rates: str) -> None:
    settings.RATE_LIMITS = {"login_ip": "off", "login_user": "off", "participant_ip": "off", **rates}


def _login(client, username: str, password: str, url: str = "/accounts/login/", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def test_failed_logins_from_one_address_are_refused_with_429(client, settings, backend):
    _limits(settings, login_ip="3/600")
    UserFactory(username="res")
    for _ in range(3):
        assert _login(client, "res", "wrong", **ADDRESS).status_code == 200  # the form again, with an error
    refused = _login(client, "res", "pw-for-tests", **ADDRESS)  # even the right password now
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert "_auth_user_id" not in client.session
    assert _login(client, "res", "pw-for-tests", **ELSEWHERE).status_code == 302  # another address
    if backend == "database":
        assert RateLimitWindow.objects.get().count == 3
    else:
        assert not RateLimitWindow.objects.exists()


def test_failed_logins_for_one_account_count_across_addresses_and_the_admin(client, settings, backend):
    _limits(settings, login_user="2/600")
    UserFactory(username="boss", is_staff=True)
    _login(client, "boss", "wrong", **ADDRESS)
    _login(client, "Boss", "wrong", url="/admin/login/?next=/admin/", **ELSEWHERE)
    for url in ("/accounts/login/", "/admin/login/?next=/admin/"):
        response = _login(client, "boss", "pw-for-tests", url=url, REMOTE_ADDR="10.0.0.3")
        assert response.status_code == 429, url
    assert _login(client, "someone-else", "wrong", **ADDRESS).status_code == 200


def test_http_basic_on_the_api_shares_the_limit(settings, make_study, backend):
    _limits(settings, login_ip="2/600")
    study = make_study(n=1)
    UserFactory(username="scripted")
    api = APIClient()

    def basic(password: str):
        token = base64.b64encode(f"scripted:{password}".encode()).decode()
        api.credentials(HTTP_AUTHORIZATION=f"Basic {token}", **ADDRESS)
        return api.get(f"/api/studies/{study.slug}/progress/")

    assert basic("wrong").status_code == 401
    assert basic("wrong").status_code == 401
    refused = basic("pw-for-tests")
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.json()["detail"]
    assert int(refused["Retry-After"]) >= 1


def test_new_participant_accounts_per_address_are_limited(client, settings, make_study, backend):
    _limits(settings, participant_ip="3/600")
    study = make_study(n=1)
    for i in range(3):
        client.logout()
        assert client.post(f"/p/{study.slug}/?PROLIFIC_PID=p{i}", **ADDRESS).status_code == 302
    client.logout()
    refused = client.post(f"/p/{study.slug}/?PROLIFIC_PID=p3", **ADDRESS)
    assert refused.status_code == 429 and "Too many new participants" in refused.content.decode()
    assert ParticipantAccount.objects.count() == 3 and "_auth_user_id" not in client.session
    # Someone coming back makes no account and is let in; so is a new one from elsewhere.
    assert client.post(f"/p/{study.slug}/?PROLIFIC_PID=p1", **ADDRESS).status_code == 302
    client.logout()
    assert client.post(f"/p/{study.slug}/?PROLIFIC_PID=p9", **ELSEWHERE).status_code == 302


def test_windows_end(settings, backend):
    _limits(settings, login_user="2/60")
    t0 = 60 * 20_000.0  # at the start of a window of 60 s
    for _ in range(2):
        assert ratelimit_hit(scope="login_user", subject="x", now=t0) is None
    assert ratelimit_hit(scope="login_user", subject="x", now=t0 + 1) == 59
    assert ratelimit_wait(scope="login_user", subject="x", now=t0 + 1) == 59
    assert ratelimit_wait(scope="login_user", subject="x", now=t0 + 60) is None
    assert ratelimit_wait(scope="login_user", subject="y", now=t0 + 1) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("store", [pytest.param("database", marks=pytest.mark.postgres), "redis"])
def test_concurrent_hits_are_counted_exactly(settings, request, store):
    if store == "database" and connection.vendor != "postgresql":
        pytest.skip("SQLite's test database lives in memory: threads cannot share it (see the Redis case)")
    if store == "redis":
        settings.RATELIMIT_REDIS_URL = request.getfixturevalue("redis_url")
    _limits(settings, participant_ip="5/600")
    allowed: list[bool] = []
    barrier = threading.Barrier(20)

    def hit() -> None:
        barrier.wait()
        try:
            allowed.append(ratelimit_hit(scope="participant_ip", subject="burst") is None)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(allowed) == 20 and allowed.count(True) == 5


def test_a_redis_outage_lets_requests_through(settings):
    _limits(settings, login_user="1/60")
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    for _ in range(3):
        assert ratelimit_hit(scope="login_user", subject="x") is None


def test_rates_and_addresses(rf, settings):
    assert rate_parse("20/600") == Rate(20, 600) and rate_parse("off") is None and rate_parse("0") is None
    for bad in ("x/60", "0/60", "5/0", "-1/60"):
        with pytest.raises(ValueError):
            rate_parse(bad)
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(request) == "10.9.9.9"  # the header is not trusted by default
    settings.RATELIMIT_TRUSTED_PROXIES = 1
    assert client_ip(request) == "1.2.3.4"
    settings.RATELIMIT_TRUSTED_PROXIES = 2
    assert client_ip(request) == "6.6.6.6"
    settings.RATELIMIT_TRUSTED_PROXIES = 3
    assert client_ip(request) == "10.9.9.9"
