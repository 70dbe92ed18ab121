"""Malformed requests to every API operation (from the OpenAPI schema) and every form view: never a 500.

Hand-written hostile bodies plus a bounded hypothesis search of arbitrary JSON;
schemathesis would drive the same schema but brings its own hypothesis pin and
a dozen dependencies for what these few loops do.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from studyapp.models import Assignment
from studyapp.services.participants import annotator_create
from tests.factories import JudgeRaterFactory, JudgeRunFactory, UserFactory

pytestmark = pytest.mark.django_db

BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"[" * 50_000 + b"]" * 50_000),
    ("application/json", b'{"a": ' * 40 + b"1" + b"}" * 40),
    ("application/json", b'{"draft": {"x": "\\u0000"}, "reason": "\\u0000", "comment": "\\u0000"}'),
    ("application/json", b'{"draft": {"\\udfff": 1}, "reason": "\\ud800", "comment": "\\ud800"}'),
    ("application/json", b'{"time_on_task": NaN, "consent": Infinity}'),
    ("application/json", b'{"time_on_task": 1e999, "trajectory_rating": 1e999}'),
    ("application/json", b'{"steps": {"0": 1' + b"0" * 5000 + b"}}"),
    ("application/json", b"null"),
    ("application/json", b'"just a string"'),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'{"steps": [], "ratings": "x", "step_comments": 5, "draft": [], "reason": {}}'),
    ("application/json", b'{"steps": {"\\u0000": 1, "-1": 1, "99999999999999999999": 1}}'),
    ("application/json", b'{"ratings": {"accuracy": 1e300, "x": null}, "consent": "maybe"}'),
    ("application/json", b'{"steps": {"0": 1}'),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b""),
    ("text/plain", b"steps=1"),
    ("application/x-www-form-urlencoded", b"steps%00=1&draft.%00=x&reason=%00&comment=a%00b&consent=x"),
    ("application/x-www-form-urlencoded", b"time_on_task=1e999&trajectory_rating=abc&steps.0=9"),
    ("multipart/form-data; boundary=zz", b'--zz\r\nContent-Disposition: form-data; name="x"\r\n\r\n\x00\r\n'),
    ("multipart/form-data", b"no boundary at all"),
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
bodies = st.dictionaries(
    st.sampled_from(
        [
            "steps",
            "step_comments",
            "ratings",
            "trajectory_rating",
            "comment",
            "time_on_task",
            "draft",
            "reason",
            "consent",
            "instructions_read",
            "x",
        ]
    ),
    json_values,
    max_size=5,
)


@pytest.fixture
def world(make_study):
    study = make_study(n=3, steps=3, summaries=1, overlap=2)
    JudgeRunFactory(study=study)
    mine, other = annotator_create(study=study, count=2, prefix="fuzz")
    apis = []
    for cred in (mine, other):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
        apis.append(api)
    own = apis[0].post(f"/api/studies/{study.slug}/next/").json()["assignment"]["id"]
    theirs = apis[1].post(f"/api/studies/{study.slug}/next/").json()["assignment"]["id"]
    return study, apis[0], own, theirs


def _operations(study, own: int, theirs: int) -> list[tuple[str, str, list[tuple[str, bytes]]]]:
    """Every operation of the schema: on the caller's own assignment with every hostile body,
    on another's, a huge id and an unknown study with a few."""
    schema = APIClient().get("/api/schema/?format=json").json()
    operations = []
    for path, methods in schema["paths"].items():
        for method in methods:
            if method not in {"get", "post", "put", "patch", "delete"} or "schema" in path or "docs" in path:
                continue
            mine = path.replace("{slug}", study.slug).replace("{id}", str(own))
            operations.append((method, mine, BODIES))
            for slug, aid in ((study.slug, theirs), (study.slug, 10**25), ("no-such-study", 0)):
                elsewhere = path.replace("{slug}", slug).replace("{id}", str(aid))
                operations.append((method, elsewhere, BODIES[:3] + BODIES[-4:]))
    assert len(operations) > 30  # every operation of the schema is here
    return operations


def test_every_api_operation_answers_hostile_bodies_with_a_4xx(world):
    study, api, own, theirs = world
    for method, path, bodies in _operations(study, own, theirs):
        for content_type, body in bodies:
            response = api.generic(method.upper(), path, data=body, content_type=content_type)
            assert response.status_code < 500, (method, path, content_type, body[:60], response.content[:300])
            if response.status_code >= 400:
                assert response["Content-Type"].startswith("application/json"), (method, path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_arbitrary_json_to_submit_draft_and_flag_is_never_a_500(world, body):
    study, api, own, _ = world
    Assignment.objects.filter(id=own).update(status="claimed")  # a skip or flag before would release it
    for method, suffix in (("post", "submit/"), ("put", "draft/"), ("post", "flag/"), ("post", "skip/")):
        response = getattr(api, method)(f"/api/assignments/{own}/{suffix}", body, format="json")
        assert response.status_code < 500, (suffix, body, response.content[:300])
    for suffix in ("join/", "next/"):
        response = api.post(f"/api/studies/{study.slug}/{suffix}", body, format="json")
        assert response.status_code < 500, (suffix, body, response.content[:300])


FORM_VALUES = ["", "\x00", "abc", "1e999", "-1", "99999999999999999999999", "١٢", "x" * 100_000]


def test_every_form_view_answers_hostile_forms_with_a_4xx(client, world):
    study, _, own, _ = world
    judge = JudgeRaterFactory(study=study)
    run = JudgeRunFactory(study=study, rater=judge)
    slug = study.slug
    posts = [
        f"/studies/{slug}/consent/",
        f"/studies/{slug}/instructions/",
        f"/studies/{slug}/next/",
        f"/p/{slug}/?PROLIFIC_PID=fuzz1",
        f"/researcher/studies/{slug}/judge-runs/",
        f"/researcher/studies/{slug}/judge-runs/{run.pk}/cancel/",
        f"/researcher/studies/{slug}/reports/",
        "/accounts/login/",
        "/admin/login/",
    ]
    gets = [
        f"/p/{slug}/?PROLIFIC_PID=%00&STUDY_ID=%00",
        f"/p/{slug}/?PROLIFIC_PID={'x' * 5000}",
        f"/p/{slug}/?PROLIFIC_PID=ok&SESSION_ID={'%ff' * 300}",
        f"/researcher/studies/{slug}/export.csv?gold=%00",
        f"/researcher/studies/{slug}/reports/1/?download=%00",
        f"/assignments/{own}/?x=%00",
    ]
    users = [None, Assignment.objects.get(id=own).rater.user, UserFactory(username="boss", is_staff=True)]
    for user in users:
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in posts:
            for value in FORM_VALUES:
                names = ("agree", "rater", "mode", "include_gold", "switch", "username", "password")
                response = client.post(url, dict.fromkeys(names, value))
                assert response.status_code < 500, (url, value[:20], response.status_code)
            raw = client.post(url, data=json.dumps({"deep": "[" * 10_000}), content_type="application/json")
            assert raw.status_code < 500, url
        for url in gets:
            assert client.get(url).status_code < 500, url
