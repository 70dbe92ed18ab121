"""Error pages: the site's own, and nothing in them about the request, the code or the server."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client, override_settings
from django.urls import include, path

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET_MARKER = "marker-3f9c1d-must-not-show"


def _boom(request: HttpRequest) -> None:
    raise RuntimeError(SECRET_MARKER)


urlpatterns = [path("boom/", _boom), path("", include("config.urls"))]

LEAKS = ("Traceback", "URLconf", "urlpatterns", "admin/", "healthz", "SECRET_KEY", "DATABASE", "settings")


def assert_no_leak(body: str) -> None:
    for leak in LEAKS:
        assert leak not in body, leak


def test_404_is_the_sites_and_lists_no_urls(client: Client) -> None:
    response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404 and "Not found (404)" in body
    assert_no_leak(body)
    assert "/no/such/page/" not in body


def test_403_for_an_annotator_on_a_researcher_page(client: Client, make_study) -> None:
    study = make_study(n=1)
    client.force_login(UserFactory())
    response = client.get(f"/researcher/studies/{study.slug}/")
    assert response.status_code == 403 and "Forbidden (403)" in response.content.decode()
    assert_no_leak(response.content.decode())


def test_403_for_a_form_without_its_csrf_token() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})
    body = response.content.decode()
    assert response.status_code == 403 and "This form could not be checked (403)" in body
    assert "CSRF cookie not set" not in body  # Django's reason, for the log only
    assert_no_leak(body)


def test_400_for_too_many_fields(client: Client) -> None:
    response = client.post("/accounts/login/", {f"f{i}": "x" for i in range(1200)})
    body = response.content.decode()
    assert response.status_code == 400 and "Bad request (400)" in body
    assert "TooManyFields" not in body and "DATA_UPLOAD_MAX_NUMBER_FIELDS" not in body
    assert_no_leak(body)


@override_settings(ROOT_URLCONF=__name__)
def test_500_says_nothing_about_the_error() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and "Something went wrong (500)" in body
    assert SECRET_MARKER not in body and "RuntimeError" not in body
    assert_no_leak(body)
