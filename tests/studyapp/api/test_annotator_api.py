"""The annotator JSON API: next, draft, submit (idempotent), skip, flag, progress, blinding."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studyapp.models import Annotation, Label
from studyapp.services.participants import annotator_create
from tests.factories import JudgmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(make_study):
    return make_study(n=3, steps=3, summaries=1, overlap=2, consent="Do you agree?")


def _client(study, n=1):
    creds = annotator_create(study=study, count=n, prefix="api")
    clients = []
    for c in creds:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {c.token}")
        clients.append(client)
    return clients


def test_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    for path in ("/api/studies/{slug}/next/", "/api/assignments/{id}/submit/"):
        assert path in body


def test_docs_page_uses_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "cdn" not in response.content.decode().lower()


def test_annotator_cycle_over_the_api(study):
    (api,) = _client(study)
    url = f"/api/studies/{study.slug}"
    assert api.post(f"{url}/next/").status_code == 409  # consent first
    assert api.post(f"{url}/join/", {"consent": True}, format="json").status_code == 200
    seen = set()
    while True:
        body = api.post(f"{url}/next/").json()
        if body["assignment"] is None:
            break
        aid, task = body["assignment"]["id"], body["task"]
        assert "gold" not in task and "outcome" not in task and "external_id" not in task
        seen.add(aid)
        r = api.put(
            f"/api/assignments/{aid}/draft/",
            {"draft": {"x": 1}, "time_on_task": 3.5},
            format="json",
        )
        assert r.status_code == 200
        assert api.get(f"/api/assignments/{aid}/").json()["assignment"]["draft"] == {"x": 1}
        if task["kind"] == "reasoning":
            bad = api.post(f"/api/assignments/{aid}/submit/", {"steps": {"0": 1}}, format="json")
            assert bad.status_code == 400
            assert set(bad.json()["errors"]["steps"]) == {"1", "2"}
            payload = {"steps": {"0": 1, "1": -1, "2": 0}, "step_comments": {"1": "wrong sum"}}
        else:
            names = [c["name"] for c in task["criteria"]]
            bad = api.post(
                f"/api/assignments/{aid}/submit/",
                {"ratings": {names[0]: 9}},
                format="json",
            )
            assert bad.status_code == 400
            assert set(bad.json()["errors"]["ratings"]) == set(names)
            payload = {"ratings": dict.fromkeys(names, 4)}
        first = api.post(f"/api/assignments/{aid}/submit/", payload, format="json")
        retry = api.post(f"/api/assignments/{aid}/submit/", payload, format="json")
        assert first.status_code == 201 and retry.status_code == 200
        assert retry.json()["annotation"] == first.json()["annotation"]
    assert len(seen) == 4
    assert Annotation.objects.count() == 4
    assert Label.objects.filter(step__isnull=False).count() == 9
    assert set(Label.objects.filter(rationale="wrong sum").values_list("value", flat=True)) == {-1}
    assert set(Annotation.objects.filter(item__kind="reasoning").values_list("first_error", flat=True)) == {1}
    progress = api.get(f"{url}/progress/").json()
    assert progress["done"] == 4 and progress["finished"] and progress["completion_code"]


def test_skip_and_flag(study):
    (api,) = _client(study)
    url = f"/api/studies/{study.slug}"
    api.post(f"{url}/join/", {"consent": True}, format="json")
    a = api.post(f"{url}/next/").json()["assignment"]["id"]
    assert api.post(f"/api/assignments/{a}/flag/", {"reason": ""}, format="json").status_code == 400
    r = api.post(f"/api/assignments/{a}/flag/", {"reason": "the problem is cut off"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "flagged"
    b = api.post(f"{url}/next/").json()["assignment"]["id"]
    assert b != a
    assert api.post(f"/api/assignments/{b}/skip/", {}, format="json").json()["status"] == "skipped"
    assert api.post(f"/api/assignments/{b}/submit/", {}, format="json").status_code == 409


def test_blinding_other_raters_assignment_is_404(study):
    alice, bob = _client(study, n=2)
    url = f"/api/studies/{study.slug}"
    for api in (alice, bob):
        api.post(f"{url}/join/", {"consent": True}, format="json")
    a = alice.post(f"{url}/next/").json()["assignment"]["id"]
    for method, suffix, data in (
        ("get", "", None),
        ("put", "draft/", {"draft": {}}),
        ("post", "submit/", {"steps": {"0": 1}}),
        ("post", "skip/", {}),
        ("post", "flag/", {"reason": "x"}),
    ):
        response = getattr(bob, method)(f"/api/assignments/{a}/{suffix}", data, format="json")
        assert response.status_code == 404, (method, suffix)


def test_no_api_route_serves_judgments_or_labels(study):
    (api,) = _client(study)
    JudgmentFactory(item=study.items.first())
    schema = APIClient().get("/api/schema/?format=json").json()
    assert not [p for p in schema["paths"] if "judg" in p or "label" in p]
    fields = {name for c in schema["components"]["schemas"].values() for name in c.get("properties", {})}
    assert not fields & {"gold", "outcome", "judgment", "judgments", "labels", "score", "rater"}
    for path in ("/api/judgments/", "/api/labels/", "/api/annotations/"):
        assert api.get(path).status_code == 404


def test_unauthenticated_is_refused(study):
    response = APIClient().post(f"/api/studies/{study.slug}/next/")
    assert response.status_code in (401, 403)


def test_token_is_made_for_created_annotators(study):
    creds = annotator_create(study=study, count=2, prefix="tok")
    assert Token.objects.filter(key__in=[c.token for c in creds]).count() == 2


def test_next_says_wait_while_every_slot_left_is_held(make_study):
    study = make_study(n=5, steps=1, overlap=2)
    apis = _client(study, n=11)
    url = f"/api/studies/{study.slug}/next/"
    held = [api.post(url).json()["assignment"]["id"] for api in apis[:10]]
    late = apis[10].post(url)
    body = late.json()
    assert late.status_code == 200
    assert (body["assignment"], body["finished"], body["wait"], body["completion_code"]) == (
        None,
        False,
        True,
        None,
    )
    assert 1 <= body["retry_after"] <= 30 and late["Retry-After"] == str(body["retry_after"])
    progress = apis[10].get(f"/api/studies/{study.slug}/progress/").json()
    assert progress["wait"] and not progress["finished"]
    for api, aid in zip(apis[:10], held, strict=True):
        assert api.post(f"/api/assignments/{aid}/skip/", {}, format="json").status_code == 200
    again = apis[10].post(url).json()
    assert again["assignment"] is not None and not again["wait"] and again["retry_after"] is None


def test_the_schema_validates_without_warnings_and_documents_wait(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = APIClient().get("/api/schema/?format=json").json()
    next_out = schema["components"]["schemas"]["NextOut"]["properties"]
    assert {"wait", "retry_after", "finished"} <= set(next_out)
    assert "basicAuth" in schema["components"]["securitySchemes"]
