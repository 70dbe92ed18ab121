"""The researcher's dashboard and judge-run controls, through the pages."""

from __future__ import annotations

import pytest

from studyapp.models import JudgeRun, Study
from tests.factories import JudgeRunFactory, StudyFactory, UserFactory

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
