"""Hostile and unlucky bodies get a 4xx with a message and store nothing, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from studyapp.models import Annotation, Assignment, Label
from studyapp.services import assignments
from studyapp.services.assignments import TIME_ON_TASK_SLACK
from studyapp.services.participants import annotator_create
from tests.factories import JudgeRaterFactory, UserFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 50_000 + "]" * 50_000


@pytest.fixture
def claimed(make_study):
    """(token client, session client, assignment id) for a claimed 3-step item."""
    study = make_study(n=2, steps=3, overlap=1)
    (cred,) = annotator_create(study=study, count=1, prefix="hostile")
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
    aid = token.post(f"/api/studies/{study.slug}/next/").json()["assignment"]["id"]
    session = APIClient()
    session.force_login(Assignment.objects.get(id=aid).rater.user)
    return token, session, aid


def _raw(api, method, url, text):
    return getattr(api, method)(url, data=text, content_type="application/json")


@pytest.mark.parametrize("who", ["token", "session"])
@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"steps": ' + DEEP + "}",
        '{"draft": {"x": "\\u0000"}}',
        '{"draft": {"\\ud800": 1}}',
        '{"draft": {"x": "\\udc00 lone low"}}',
        '{"comment": "a\\ud83d"}',
        '{"time_on_task": NaN}',
        '{"time_on_task": Infinity}',
        '{"time_on_task": 1e999}',
        '{"steps": {"0": 1}',  # cut off
        "\xff\xfe",
    ],
)
def test_malformed_json_is_a_400_with_a_message(claimed, who, body):
    token, session, aid = claimed
    api = token if who == "token" else session
    for method, suffix in (("post", "submit/"), ("put", "draft/")):
        response = _raw(
            api, method, f"/api/assignments/{aid}/{suffix}", body.encode("utf-8", "surrogatepass")
        )
        assert response.status_code == 400, (suffix, response.content[:200])
        assert response.json()["detail"]
    assert not Annotation.objects.exists() and Assignment.objects.get(id=aid).draft == {}


def test_a_valid_surrogate_pair_is_kept(claimed):
    token, _, aid = claimed
    response = _raw(token, "put", f"/api/assignments/{aid}/draft/", '{"draft": {"note": "\\ud83d\\ude00"}}')
    assert response.status_code == 200 and Assignment.objects.get(id=aid).draft == {"note": "\U0001f600"}


def test_bodies_over_the_size_limit_are_a_413(claimed, settings):
    token, session, aid = claimed
    settings.API_MAX_BODY_BYTES = 10_000
    big = json.dumps({"draft": {"x": "y" * 20_000}})
    for api in (token, session):
        assert _raw(api, "put", f"/api/assignments/{aid}/draft/", big).status_code == 413
        submit = {"steps": {"0": 1, "1": 1, "2": 1}, "comment": "z" * 20_000}
        assert _raw(api, "post", f"/api/assignments/{aid}/submit/", json.dumps(submit)).status_code == 413
    assert not Annotation.objects.exists()


def test_drafts_over_their_limit_are_refused(claimed, settings):
    token, _, aid = claimed
    settings.ASSIGNMENT_DRAFT_MAX_BYTES = 1000
    response = token.put(f"/api/assignments/{aid}/draft/", {"draft": {"x": "y" * 2000}}, format="json")
    assert response.status_code == 400 and "at most 1000" in json.dumps(response.json())
    assert Assignment.objects.get(id=aid).draft == {}


@pytest.mark.parametrize("who", ["token", "session"])
def test_comments_and_reasons_have_the_pages_bounds(claimed, who):
    token, session, aid = claimed
    api = token if who == "token" else session
    url = f"/api/assignments/{aid}/submit/"
    labels = {"0": 1, "1": 1, "2": 1}
    for body in (
        {"steps": labels, "comment": "x" * 1_000_000},
        {"steps": labels, "comment": "x" * 5001},
        {"steps": labels, "step_comments": {"1": "y" * 5001}},
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400 and response.json()["errors"], response.json()
    assert not Annotation.objects.exists() and not Label.objects.exists()
    flag = api.post(f"/api/assignments/{aid}/flag/", {"reason": "r" * 2001}, format="json")
    assert flag.status_code == 400 and Assignment.objects.get(id=aid).status == "claimed"
    ok = api.post(
        url, {"steps": labels, "comment": "x" * 5000, "step_comments": {"0": "y" * 5000}}, format="json"
    )
    assert ok.status_code == 201
    assert len(Annotation.objects.get().comment) == 5000


@pytest.mark.parametrize("who", ["token", "session"])
def test_time_on_task_is_bounded_by_the_time_since_the_claim(claimed, who, monkeypatch):
    token, session, aid = claimed
    api = token if who == "token" else session
    for out_of_range in (1e308, -1, 86_401):  # reported values the API refuses, not timings
        response = api.put(
            f"/api/assignments/{aid}/draft/", {"draft": {}, "time_on_task": out_of_range}, format="json"
        )
        assert response.status_code == 400, out_of_range
        submit = {"steps": {"0": 1, "1": 1, "2": 1}, "time_on_task": out_of_range}
        assert api.post(f"/api/assignments/{aid}/submit/", submit, format="json").status_code == 400
    # Claimed ten minutes ago: an hour is cut to the time since the claim plus a minute of
    # slack. The service's clock is held still, so the cut is exact whatever the load.
    now = timezone.now()
    Assignment.objects.filter(id=aid).update(claimed_at=now - timedelta(minutes=10))
    with monkeypatch.context() as m:
        m.setattr(assignments, "timezone", SimpleNamespace(now=lambda: now))
        saved = api.put(f"/api/assignments/{aid}/draft/", {"draft": {}, "time_on_task": 3600}, format="json")
    assert saved.status_code == 200 and saved.json()["time_on_task"] == 600 + TIME_ON_TASK_SLACK
    Assignment.objects.filter(id=aid).update(claimed_at=timezone.now() - timedelta(minutes=20))
    submit = {"steps": {"0": 1, "1": 1, "2": 1}, "time_on_task": 900}
    assert api.post(f"/api/assignments/{aid}/submit/", submit, format="json").status_code == 201
    assert Annotation.objects.get().time_on_task == 900


def test_judge_run_form_with_a_non_integer_judge_is_a_400(client, make_study):
    study = make_study(n=1)
    JudgeRaterFactory(study=study)
    client.force_login(UserFactory(username="res", is_staff=True))
    url = f"/researcher/studies/{study.slug}/judge-runs/"
    for rater in ("abc", "", "1.5", "١٢", "-1"):
        assert client.post(url, {"rater": rater, "mode": "sync"}).status_code == 400, rater
    assert client.post(url, {"rater": "99999999999999999999999", "mode": "sync"}).status_code == 404
