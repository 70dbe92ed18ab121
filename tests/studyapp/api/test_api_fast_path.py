"""Token POSTs to next and submit: one-query caller lookup on PostgreSQL, same answers everywhere.

On PostgreSQL these requests skip DRF's request cycle (see
`TokenFastPathView`); on SQLite they go through DRF. Every assertion here
holds on both, so the two paths are held to the same behaviour.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from studyapp.models import Annotation, Assignment, Label, Participation, Rater, Slot
from studyapp.services.participants import annotator_create

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def study(make_study):
    return make_study(n=4, steps=3, overlap=1)


def _annotator(study, consent: bool = True) -> tuple[APIClient, str]:
    (cred,) = annotator_create(study=study, count=1, prefix="fast")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
    if consent:
        assert (
            api.post(f"/api/studies/{study.slug}/join/", {"consent": True}, format="json").status_code == 200
        )
    return api, cred.username


def _next(api, study) -> dict:
    response = api.post(f"/api/studies/{study.slug}/next/")
    assert response.status_code == 200, response.content
    return response.json()


def test_round_trips_per_cycle(study, django_assert_num_queries):
    api, _ = _annotator(study)
    _next(api, study)  # builds the queue and claims
    body = _next(api, study)  # the current claim again
    aid = body["assignment"]["id"]
    payload = {"steps": {"0": 1, "1": 1, "2": 0}, "time_on_task": 3}
    if POSTGRES:
        # caller+rater+study+participation, then the claim: BEGIN, lock, claim with item and steps, COMMIT
        # the submission: caller+assignment+steps, BEGIN, store, COMMIT, then the live
        # estimates' pending mark (studyapp/db/live.py), in autocommit
        with django_assert_num_queries(5):
            assert api.post(f"/api/assignments/{aid}/submit/", payload, format="json").status_code == 201
        with django_assert_num_queries(5):
            body = _next(api, study)
        assert len(body["task"]["steps"]) == 3
    else:
        assert api.post(f"/api/assignments/{aid}/submit/", payload, format="json").status_code == 201
        assert _next(api, study)["assignment"] is not None


def test_token_and_session_get_the_same_answer(study):
    api, username = _annotator(study)
    by_token = _next(api, study)
    browser = APIClient()
    browser.force_login(User.objects.get(username=username))
    by_session = browser.post(f"/api/studies/{study.slug}/next/").json()
    assert by_token == by_session  # the same claim, served again through DRF
    assert [s["index"] for s in by_token["task"]["steps"]] == [0, 1, 2]
    assert by_token["assignment"]["expires_at"].endswith("Z")


def test_submission_errors_and_retry(study):
    api, _ = _annotator(study)
    aid = _next(api, study)["assignment"]["id"]
    url = f"/api/assignments/{aid}/submit/"
    missing = api.post(url, {"steps": {"0": 1, "7": 1}}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"]["steps"] == {
        "7": "There is no such step.",
        "1": "Label this step.",
        "2": "Label this step.",
    }
    malformed = api.post(url, {"steps": {"0": True}, "comment": "a" * 5001}, format="json")
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "invalid" and set(malformed.json()["errors"]) == {"steps", "comment"}
    unstorable = api.post(url, {"steps": {"0": 1, "1": 1, "2": 1}, "comment": "a\x00b"}, format="json")
    assert unstorable.status_code == 400 and unstorable.json()["error"] == "parse_error"
    assert "cannot be stored" in unstorable.json()["detail"]
    out_of_range = api.post(url, {"steps": {"0": 2, "1": 1, "2": 1}}, format="json")
    assert out_of_range.status_code == 400
    assert Annotation.objects.count() == 0 and Label.objects.count() == 0
    payload = {"steps": {"0": 1, "1": -1, "2": 0}, "step_comments": {"1": " wrong "}, "time_on_task": 4}
    first = api.post(url, payload, format="json")
    assert first.status_code == 201 and first.json()["first_error"] == 1 and first.json()["created"]
    retry = api.post(url, payload, format="json")
    assert retry.status_code == 200 and not retry.json()["created"]
    assert retry.json()["annotation"] == first.json()["annotation"]
    annotation = Annotation.objects.get()
    assert annotation.time_on_task == 4 and annotation.first_error == 1
    assert sorted(annotation.labels.values_list("step__index", "value", "rationale")) == [
        (0, 1.0, ""),
        (1, -1.0, "wrong"),
        (2, 0.0, ""),
    ]
    assignment = Assignment.objects.get(id=aid)
    assert assignment.status == "submitted" and assignment.annotation_id == annotation.id
    assert Slot.objects.get(holder_id=aid).held_until is None
    participation = Participation.objects.get(rater=assignment.rater)
    assert participation.n_submitted == 1 and participation.current_id is None


def test_form_encoded_submission_takes_the_serializer_path(study):
    api, _ = _annotator(study)
    aid = _next(api, study)["assignment"]["id"]
    response = api.post(f"/api/assignments/{aid}/submit/", {"comment": "x"})  # multipart
    assert response.status_code == 400 and set(response.json()["errors"]["steps"]) == {"0", "1", "2"}


def test_submission_after_the_claim_timed_out_and_was_taken_is_refused(make_study):
    study = make_study(n=1, steps=3, overlap=1)
    api, _ = _annotator(study)
    aid = _next(api, study)["assignment"]["id"]
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.filter(id=aid).update(expires_at=past)
    Slot.objects.filter(holder_id=aid).update(held_until=past)
    other, _ = _annotator(study)
    taken = _next(other, study)["assignment"]["id"]  # the item's only slot, timed out, is taken
    assert Slot.objects.get().holder_id == taken
    assert Assignment.objects.get(id=aid).status == "queued"
    response = api.post(f"/api/assignments/{aid}/submit/", {"steps": {"0": 1, "1": 1, "2": 1}}, format="json")
    assert response.status_code == 409 and response.json()["error"] == "not_active"
    assert Annotation.objects.count() == 0 and Label.objects.count() == 0


def test_callers_the_one_query_lookup_does_not_find_get_drfs_answers(study):
    api, _ = _annotator(study)
    aid = _next(api, study)["assignment"]["id"]
    intruder, _ = _annotator(study)
    assert intruder.post(f"/api/assignments/{aid}/submit/", {"steps": {}}, format="json").status_code == 404
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.post(f"/api/studies/{study.slug}/next/").status_code == 401
    assert bad.post(f"/api/assignments/{aid}/submit/", {}, format="json").status_code == 401
    User.objects.filter(raters__assignments__id=aid).update(is_active=False)
    assert api.post(f"/api/studies/{study.slug}/next/").status_code == 401
    assert api.post(f"/api/assignments/{aid}/submit/", {"steps": {}}, format="json").status_code == 401


def test_not_yet_enrolled_token_user_is_enrolled_by_next(study, make_study):
    api, username = _annotator(study)
    other_study = make_study(n=2, steps=2, overlap=1)
    response = api.post(f"/api/studies/{other_study.slug}/next/")
    assert response.status_code == 200 and response.json()["assignment"] is not None
    assert Rater.objects.filter(study=other_study, user__username=username).exists()


def test_unconsented_caller_is_told_so(study):
    study.consent = "Do you agree?"
    study.save()
    api, _ = _annotator(study, consent=False)
    response = api.post(f"/api/studies/{study.slug}/next/")
    assert response.status_code == 409 and response.json()["error"] == "participation_blocked"


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="server-side prepared statements are PostgreSQL's")
def test_hot_statements_are_prepared_once_per_connection(study):
    api, _ = _annotator(study)
    body = _next(api, study)
    aid = body["assignment"]["id"]
    api.post(f"/api/assignments/{aid}/submit/", {"steps": {"0": 1, "1": 1, "2": 1}}, format="json")
    _next(api, study)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cursor.fetchall()]
    # caller lookups, participation lock, claim, submission (psycopg names them _pg3_<n>)
    assert len(prepared) >= 5, prepared
    assert any("FOR UPDATE OF s SKIP LOCKED" in sql for sql in prepared)
    assert any("jsonb_to_recordset" in sql for sql in prepared)
