"""Annotator and researcher pages through Django's test client: access, blinding, links, queries."""

from __future__ import annotations

import csv
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studyapp.models import Assignment, Participation, Rater
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next
from studyapp.services.participants import rater_for_user
from tests.factories import JudgeRunFactory, ReasoningItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _annotator(client, study, name):
    user = UserFactory(username=name)
    client.force_login(user)
    return user


def test_other_raters_assignment_page_is_404(client, make_study, make_rater):
    study = make_study(n=2)
    owner = make_rater(study, "owner")
    assignment = assignment_claim_next(rater=owner, study=study)
    _annotator(client, study, "intruder")
    assert client.get(f"/assignments/{assignment.id}/").status_code == 404
    client.force_login(owner.user)
    assert client.get(f"/assignments/{assignment.id}/").status_code == 200


def _concrete_urls(slug: str) -> list[str]:
    urls = []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                url = "/" + route.replace("^", "").replace("$", "")
                url = re.sub(r"<slug:\w+>", slug, url)
                url = re.sub(r"<int:\w+>", "1", url)
                url = re.sub(r"<(?:str|path):\w+>", "csv", url)
                if "<" not in url and "(" not in url:
                    urls.append(url)

    walk(get_resolver().url_patterns)
    return urls


def test_annotators_cannot_reach_researcher_pages_exports_or_admin(client, make_study):
    study = make_study(n=1)
    JudgeRunFactory(study=study)
    _annotator(client, study, "plain")
    guarded = [u for u in _concrete_urls(study.slug) if "researcher" in u or "export" in u]
    assert f"/researcher/studies/{study.slug}/" in guarded
    for url in guarded:
        assert client.get(url).status_code in (403, 404), url
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/studyapp/annotation/").status_code == 302


def test_researcher_reaches_the_dashboard(client, make_study):
    study = make_study(n=1)
    client.force_login(UserFactory(is_staff=True))
    assert client.get(f"/researcher/studies/{study.slug}/").status_code == 200
    client.logout()
    response = client.get(f"/researcher/studies/{study.slug}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_prolific_link_enters_and_finishes_with_completion_code(client, make_study):
    study = make_study(n=1, consent="", spec={"annotation": {"completion_code": "ABC123"}})
    url = f"/p/{study.slug}/?PROLIFIC_PID=5f1e9c&STUDY_ID=st1&SESSION_ID=se1"
    landing = client.get(url)  # a landing page: nothing is made by a GET
    assert landing.status_code == 200 and 'id="start"' in landing.content.decode()
    assert not Rater.objects.exists() and "_auth_user_id" not in client.session
    response = client.post(url)
    assert response.status_code == 302
    rater = Rater.objects.get(study=study, user__username="p-5f1e9c")
    p = rater.participation
    assert (p.external_id, p.external_study_id, p.external_session_id) == ("5f1e9c", "st1", "se1")
    assert client.get(url).status_code == 302  # already in: straight to the study
    # Coming back with the same id is the same rater.
    client.logout()
    client.post(url)
    assert Rater.objects.filter(study=study, kind="human").count() == 1
    assignment = assignment_claim_next(rater=rater, study=study)
    annotation_submit(assignment=assignment, step_labels={0: 1, 1: 1, 2: 1})
    assert client.post(f"/studies/{study.slug}/next/").status_code == 302
    page = client.get(f"/studies/{study.slug}/queue/").content.decode()
    assert "ABC123" in page and "app.prolific.com/submissions/complete?cc=ABC123" in page
    assert client.get(f"/p/{study.slug}/?PROLIFIC_PID=").status_code == 400
    assert client.post(f"/p/{study.slug}/?PROLIFIC_PID=<script>").status_code == 400
    # A link can never enter an account it did not make, such as a staff account of that name.
    admin = UserFactory(username="p-admin", is_staff=True)
    client.logout()
    assert client.post(f"/p/{study.slug}/?PROLIFIC_PID=admin").status_code == 302
    assert client.session["_auth_user_id"] != str(admin.id)
    assert client.get(f"/researcher/studies/{study.slug}/").status_code == 403


def test_a_link_does_not_silently_log_out_another_account(client, make_study):
    study = make_study(n=1)
    researcher = UserFactory(username="res", is_staff=True)
    client.force_login(researcher)
    url = f"/p/{study.slug}/?PROLIFIC_PID=pp1"
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and 'id="logged-in-as"' in body and "res" in body
    refused = client.post(url)  # Start without confirming the switch
    assert refused.status_code == 409 and 'id="logged-in-as"' in refused.content.decode()
    assert client.session["_auth_user_id"] == str(researcher.id) and not Rater.objects.exists()
    assert client.post(url, {"switch": "yes"}).status_code == 302
    assert client.session["_auth_user_id"] != str(researcher.id)
    assert Rater.objects.get().user.username == "p-pp1"


def test_get_next_claims_nothing_and_post_claims(client, make_study):
    study = make_study(n=2)
    client.force_login(UserFactory(username="getter"))
    response = client.get(f"/studies/{study.slug}/next/")
    assert response.status_code == 302 and response["Location"].endswith(f"/studies/{study.slug}/queue/")
    assert not Assignment.objects.exists() and not Rater.objects.exists()
    response = client.post(f"/studies/{study.slug}/next/")
    claimed = Assignment.objects.get(status="claimed")
    assert response["Location"] == f"/assignments/{claimed.id}/"


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    models = [*apps.get_app_config("studyapp").get_models(), User, Token]
    return {m.__name__: m.objects.count() for m in models}


def test_no_get_writes_anything(client, make_study, make_rater):
    """Every GET route, anonymous and logged in (enrolled or not), leaves every table as it was."""
    study = make_study(n=3, steps=1, consent="Agree?", instructions="Read me.")
    enrolled = make_rater(study, "enrolled")
    Participation.objects.filter(rater=enrolled).update(consented_at=timezone.now())
    Participation.objects.filter(rater=enrolled).update(instructions_read_at=timezone.now())
    JudgeRunFactory(study=study)
    urls = [u for u in _concrete_urls(study.slug) if "admin" not in u]
    urls.append(f"/p/{study.slug}/?PROLIFIC_PID=newcomer&STUDY_ID=s&SESSION_ID=t")
    users = [
        None,
        UserFactory(username="visitor"),
        enrolled.user,
        UserFactory(username="boss", is_staff=True),
    ]
    api = APIClient()
    for user in users:
        before = _row_counts()
        if user is None:
            client.logout()
        else:
            client.force_login(user)
            api.force_authenticate(user)
        for url in urls:
            client.get(url)
            if url.startswith("/api/"):
                api.get(url)
        assert _row_counts() == before, user


def test_create_annotators_writes_working_credentials(make_study, tmp_path):
    study = make_study(n=1)
    out = tmp_path / "logins.csv"
    call_command("create_annotators", study.slug, "--count", "3", "--prefix", "ann", "--out", out)
    rows = list(csv.DictReader(out.open()))
    assert [r["username"] for r in rows] == ["ann001", "ann002", "ann003"]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    for row in rows:
        assert authenticate(username=row["username"], password=row["password"]) is not None
        assert Rater.objects.filter(study=study, user__username=row["username"]).exists()
    call_command("create_annotators", study.slug, "--count", "1", "--prefix", "ann", "--out", out)
    assert next(csv.DictReader(out.open()))["username"] == "ann004"


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


@pytest.mark.parametrize("page", ["queue", "reasoning", "summary", "dashboard"])
def test_query_counts_do_not_grow_with_the_study(client, make_study, page, django_assert_max_num_queries):
    counts = []
    for size in (3, 12):
        study = make_study(
            n=0 if page == "summary" else size,
            steps=size,
            summaries=0 if page == "reasoning" else size,
            overlap=2,
        )
        raters = []
        for i in range(size):
            user = UserFactory(is_staff=True, username=f"{page}-{size}-{i}")
            rater = rater_for_user(study=study, user=user)
            raters.append(rater)
            a = assignment_claim_next(rater=rater, study=study)
            if a.item.kind == "reasoning":
                annotation_submit(assignment=a, step_labels=dict.fromkeys(range(size), 1))
            else:
                annotation_submit(assignment=a, ratings={"accuracy": 3, "usefulness": 4})
        current = assignment_claim_next(rater=raters[0], study=study)
        client.force_login(raters[0].user)
        url = {
            "queue": f"/studies/{study.slug}/queue/",
            "reasoning": f"/assignments/{current.id}/",
            "summary": f"/assignments/{current.id}/",
            "dashboard": f"/researcher/studies/{study.slug}/",
        }[page]
        counts.append(_count(client, url))
        with django_assert_max_num_queries(15):
            client.get(url)
    assert counts[0] == counts[1], counts
    assert Participation.objects.count() >= 6


def test_items_can_be_added_after_queues_exist(make_study, make_rater):
    study = make_study(n=1, overlap=1)
    rater = make_rater(study)
    a = assignment_claim_next(rater=rater, study=study)
    annotation_submit(assignment=a, step_labels={0: 1, 1: 1, 2: 1})
    ReasoningItemFactory(study=study, steps=1)
    assert assignment_claim_next(rater=rater, study=study) is not None


def test_queue_page_says_come_back_while_every_slot_is_held(client, make_study, make_rater):
    study = make_study(n=2, steps=1, overlap=1)
    for _ in range(2):
        assignment_claim_next(rater=make_rater(study), study=study)
    late = make_rater(study, "late")
    assert assignment_claim_next(rater=late, study=study) is None
    client.force_login(late.user)
    page = client.get(f"/studies/{study.slug}/queue/").content.decode()
    assert 'id="wait"' in page and 'http-equiv="refresh"' in page
    assert 'id="finished"' not in page and "completion code" not in page


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_only_open_studies_are_listed_and_joinable(client, make_study, status):
    from rest_framework.test import APIClient

    from studyapp.services.participants import annotator_create

    hidden = make_study(n=1, status=status, title="Hidden study")
    shown = make_study(n=1, title="Shown study")
    for who in (None, "visitor"):
        if who:
            client.force_login(UserFactory(username=who))
        home = client.get("/").content.decode()
        assert "Shown study" in home and "Hidden study" not in home
    for page in ("", "consent/", "instructions/", "queue/"):
        response = client.get(f"/studies/{hidden.slug}/{page}")
        assert response.status_code == (404 if status == "draft" else 403), page
    assert client.post(f"/studies/{hidden.slug}/next/").status_code in (403, 404)
    assert not Rater.objects.filter(study=hidden).exists()
    link = client.get(f"/p/{hidden.slug}/?PROLIFIC_PID=abc")
    assert link.status_code in (403, 404) and not Rater.objects.filter(study=hidden).exists()
    (cred,) = annotator_create(study=shown, count=1, prefix="api")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
    for method, path in (("post", "join/"), ("post", "next/"), ("get", "progress/")):
        response = getattr(api, method)(
            f"/api/studies/{hidden.slug}/{path}", {"consent": True}, format="json"
        )
        assert response.status_code == (404 if status == "draft" else 409), path
    assert not Rater.objects.filter(study=hidden).exists()
    researcher = UserFactory(username="res", is_staff=True)
    client.force_login(researcher)
    home = client.get("/").content.decode()
    assert "Hidden study" in home and status in home
    assert client.get(f"/researcher/studies/{hidden.slug}/").status_code == 200


def test_an_enrolled_annotator_of_a_closed_study_is_told_it_is_closed(client, make_study, make_rater):
    study = make_study(n=1, steps=1, spec={"annotation": {"completion_code": "DONE42"}})
    rater = make_rater(study, "was-here")
    annotation_submit(assignment=assignment_claim_next(rater=rater, study=study), step_labels={0: 1})
    assert assignment_claim_next(rater=rater, study=study) is None  # finished, with the code
    study.status = "closed"
    study.save()
    client.force_login(rater.user)
    for page in ("", "queue/"):
        response = client.get(f"/studies/{study.slug}/{page}")
        body = response.content.decode()
        assert response.status_code == 403 and 'id="closed"' in body and "This study is closed" in body
        assert "DONE42" in body
    assert client.post(f"/studies/{study.slug}/next/", follow=True).status_code == 403
