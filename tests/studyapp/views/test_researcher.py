"""The researcher's dashboard and judge-run controls, through the pages."""

from __future__ import annotations

import pytest

from studyapp.models import Item, JudgeRun, Study
from tests.factories import (
    JudgeRunFactory,
    ReasoningItemFactory,
    StudyFactory,
    UserFactory,
    judge_step_scores,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher_client(client):
    client.force_login(UserFactory(username="res", is_staff=True))
    return client


def test_cancel_returns_to_the_dashboards_judge_runs_and_says_what_happened(researcher_client):
    run = JudgeRunFactory(status=JudgeRun.Status.RUNNING)
    url = f"/researcher/studies/{run.study.slug}/judge-runs/{run.pk}/cancel/"
    response = researcher_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/researcher/studies/{run.study.slug}/#judge-runs"
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED
    assert f"Run {run.pk} cancelled." in researcher_client.get(response["Location"]).content.decode()
    again = researcher_client.post(url, follow=True).content.decode()
    assert f"Run {run.pk} had already ended." in again


def test_a_run_or_a_judge_of_another_study_is_not_found(researcher_client):
    run = JudgeRunFactory(status=JudgeRun.Status.RUNNING)
    other = StudyFactory()
    assert (
        researcher_client.post(f"/researcher/studies/{other.slug}/judge-runs/{run.pk}/cancel/").status_code
        == 404
    )
    start = researcher_client.post(f"/researcher/studies/{other.slug}/judge-runs/", {"rater": run.rater_id})
    assert start.status_code == 404
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING and JudgeRun.objects.count() == 1


@pytest.mark.parametrize("status", [Study.Status.DRAFT, Study.Status.OPEN, Study.Status.CLOSED])
def test_researchers_see_the_dashboard_of_a_study_in_any_status(researcher_client, status):
    study = StudyFactory(status=status)
    response = researcher_client.get(f"/researcher/studies/{study.slug}/")
    assert response.status_code == 200 and study.title in response.content.decode()


def test_a_researcher_draws_an_active_study_from_the_dashboard(researcher_client, client):
    study = StudyFactory(spec={"annotation": {"allocation": "active", "allocation_budget": 0.5}})
    items = [ReasoningItemFactory(study=study, steps=1) for _ in range(4)]
    judge_step_scores(study, {item.pk: [0.9] for item in items}, "sprm")
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert 'id="allocation"' in page and "Draw the 4 item(s) not drawn yet now" in page
    url = f"/researcher/studies/{study.slug}/allocation/"
    assert researcher_client.get(url).status_code == 405  # a GET changes nothing
    response = researcher_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == f"/researcher/studies/{study.slug}/#allocation"
    assert "4 item(s) drawn." in response.content.decode()
    assert "not drawn yet now" not in response.content.decode()
    assert Item.objects.filter(study=study, allocation_pi__isnull=False).count() == 4
    again = researcher_client.post(url, follow=True).content.decode()
    assert "0 item(s) drawn." in again


def test_drawing_a_uniform_study_or_as_an_annotator_is_refused(researcher_client, client):
    uniform = StudyFactory()
    ReasoningItemFactory(study=uniform, steps=1)
    page = researcher_client.post(f"/researcher/studies/{uniform.slug}/allocation/", follow=True)
    assert page.status_code == 200 and "only an active study is allocated" in page.content.decode()
    assert researcher_client.post("/researcher/studies/nope/allocation/").status_code == 404
    client.force_login(UserFactory(username="annotator"))
    assert client.post(f"/researcher/studies/{uniform.slug}/allocation/").status_code == 403
    assert not Item.objects.filter(allocation_pi__isnull=False).exists()
