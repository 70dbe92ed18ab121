"""The dashboard's live section reads the stored snapshot, never builds one; its refresh
button queues a refresh for researchers only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studyapp.models import LiveSnapshot
from tests.factories import StudyFactory, SummaryItemFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = {
    "settings": {"epsilon": 0.15, "min_human_alpha": 0.667, "ci": 0.95, "n_resamples": 200},
    "domains": [
        {
            "domain": "cardiology",
            "decided": True,
            "why": "every verdict is decided (1 judge verdict(s) in 1 group(s))",
            "groups": [
                {
                    "level": "rubric",
                    "criterion": "accuracy",
                    "n_units": 90,
                    "n_items": 90,
                    "n_humans": 3,
                    "human_alpha": {"value": 0.81, "ci": [0.7, 0.9], "n_units": 60},
                    "reliable": True,
                    "gate_reason": None,
                    "decided": True,
                    "judges": [
                        {
                            "judge": "critic-small",
                            "estimate": {
                                "quantity": "mean human rating",
                                "value": 3.125,
                                "ci": [2.875, 3.375],
                                "n_labelled": 60,
                                "n_unlabelled": 30,
                                "human_only_value": 3.2,
                                "human_only_ci": [2.85, 3.55],
                                "n_effective": 92.4,
                                "reason": None,
                            },
                            "summary": "agrees with people as well as people agree with each other",
                            "agreement": "as good as people",
                            "alt_test_passed": True,
                            "winning_rate": 1.0,
                            "decision": "replace",
                            "why": "passes the alternative-annotator test at epsilon 0.15",
                        }
                    ],
                }
            ],
        },
        {
            "domain": "oncology",
            "decided": False,
            "why": "no judge has rated this domain's items yet",
            "groups": [],
        },
    ],
}


@pytest.fixture
def researcher_client(client):
    client.force_login(UserFactory(username="res", is_staff=True))
    return client


@pytest.fixture
def no_build(monkeypatch):
    """Any report or live build in this process fails the test."""
    import studyapp.selectors.reports as reports
    import studyapp.services.live as live

    def refuse(*args, **kwargs):
        raise AssertionError("the page built estimates")

    monkeypatch.setattr(reports, "study_report", refuse)
    monkeypatch.setattr(live, "_build", refuse)


def test_the_page_shows_the_stored_snapshot_and_what_arrived_since(researcher_client, no_build):
    study = StudyFactory()
    built = timezone.now() - timedelta(minutes=3)
    LiveSnapshot.objects.create(
        study=study, status="running", pending=True, data=DATA, n_annotations=0, built_at=built
    )
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert f"As of {timezone.localtime(built):%Y-%m-%d %H:%M:%S}, 0 annotations; 0 since." in page
    assert "<strong>Refreshing</strong>" in page
    assert 'data-domain="cardiology">cardiology: <strong>decided</strong>' in page
    assert 'data-domain="oncology">oncology: not decided' in page
    assert "no judge has rated this domain&#x27;s items yet" in page
    assert "3.125 [2.875, 3.375]" in page and "3.200 [2.850, 3.550]" in page and "60 → 92" in page
    assert "<strong>replace</strong>" in page and "(0.15)" in page
    # nothing was queued or built by reading
    snap = LiveSnapshot.objects.get(study=study)
    assert (snap.status, snap.pending, snap.data) == ("running", True, DATA)


def test_annotations_since_the_snapshot_are_counted_and_an_unbuilt_one_says_so(researcher_client, no_build):
    from studyapp.models import Annotation, Rater

    study = StudyFactory()
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert "Not built yet" in page and "Refreshing" not in page
    assert not LiveSnapshot.objects.exists()  # a read creates nothing

    rater = Rater.objects.create(study=study, name="ext", kind=Rater.Kind.EXTERNAL)
    for _ in range(3):
        Annotation.objects.create(item=SummaryItemFactory(study=study), rater=rater)
    gold = SummaryItemFactory(study=study, is_gold=True)
    Annotation.objects.create(item=gold, rater=rater)  # gold items are left out
    LiveSnapshot.objects.create(
        study=study, status="done", data=DATA, n_annotations=1, built_at=timezone.now()
    )
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert ", 1 annotation; 2 since." in page and "Refreshing" not in page


def test_refresh_now_queues_one_refresh(researcher_client, django_capture_on_commit_callbacks):
    study = StudyFactory()
    url = f"/researcher/studies/{study.slug}/live/"
    with django_capture_on_commit_callbacks() as queued:
        response = researcher_client.post(url)
        assert researcher_client.post(url).status_code == 302  # already pending: nothing more
    assert response.status_code == 302 and response["Location"] == f"/researcher/studies/{study.slug}/#live"
    assert len(queued) == 1
    snap = LiveSnapshot.objects.get(study=study)
    assert (snap.pending, snap.status) == (True, "queued")


def test_hostile_and_unauthorised_requests_are_refused(client):
    study = StudyFactory()
    url = f"/researcher/studies/{study.slug}/live/"
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory(username="annotator"))
    assert client.post(url).status_code == 403
    assert client.get(f"/researcher/studies/{study.slug}/").status_code == 403
    client.force_login(UserFactory(username="res2", is_staff=True))
    assert client.get(url).status_code == 405  # a GET changes nothing
    assert client.post("/researcher/studies/no-such-study/live/").status_code == 404
    assert (
        client.post(f"/researcher/studies/{study.slug}/live/?x=%00", {"study": "1; DROP"}).status_code == 302
    )
    assert client.post(f"/researcher/studies/{study.slug}%00/live/").status_code == 404
    assert list(LiveSnapshot.objects.values_list("study__slug", flat=True)) == [study.slug]
