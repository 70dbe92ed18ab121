"""The dashboard's live section reads the stored snapshot, never builds one; its refresh
button queues a refresh for researchers only."""

from __future__ import annotations

import copy
from datetime import timedelta
from html import escape

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


def _with_target_width() -> dict:
    """DATA at a target width of 0.1: cardiology's verdict is decided but its interval (0.5) is
    wider; oncology's estimate is precise (0.08) while its verdict is open."""
    data = copy.deepcopy(DATA)
    data["settings"]["target_width"] = 0.1
    cardiology, oncology = data["domains"]
    cardiology.update(
        estimates_decided=False,
        estimates_why="rubric/accuracy, critic-small: width 0.5 > target 0.1",
        budget_can_move=False,
        budget_why="the verdicts are decided, but the estimates have not reached the target width yet",
    )
    cardiology["groups"][0]["judges"][0]["estimate"].update(width=0.5, width_reached=False)
    group = copy.deepcopy(cardiology["groups"][0])
    judge = group["judges"][0]
    judge.update(decision=None, why="not conclusive yet")
    judge["estimate"].update(value=2.5, ci=[2.46, 2.54], width=0.08, width_reached=True)
    oncology.update(
        decided=False,
        why="rubric/accuracy, critic-small: not conclusive yet",
        estimates_decided=True,
        estimates_why="every estimate is precise enough: widest interval 0.08 <= target 0.1",
        budget_can_move=False,
        budget_why="the estimates reached the target width, but the verdicts are not decided yet",
        groups=[group],
    )
    return data


def test_the_page_says_which_estimates_reached_the_target_width(researcher_client, no_build):
    study = StudyFactory()
    LiveSnapshot.objects.create(
        study=study, status="done", data=_with_target_width(), n_annotations=0, built_at=timezone.now()
    )
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert 'data-domain="cardiology">cardiology: <strong>decided</strong>' in page
    assert (
        '<p class="live-width" data-domain="cardiology">Estimates at the target width 0.1: not yet '
        '<span class="muted">(rubric/accuracy, critic-small: width 0.5 &gt; target 0.1)</span>'
    ) in page
    assert (
        '<p class="live-width" data-domain="oncology">Estimates at the target width 0.1: <strong>precise '
        'enough</strong> <span class="muted">(every estimate is precise enough: widest interval 0.08 '
        "&lt;= target 0.1)</span>"
    ) in page
    assert page.count("Human labels: still needed here") == 2
    assert "the estimates reached the target width, but the verdicts are not decided yet" in page
    assert '<td class="num live-ci-width">0.500 &gt; target</td>' in page
    assert '<td class="num live-ci-width">0.080 ≤ target</td>' in page
    assert "The spec's <code>analysis.target_width</code> (0.1)" in page

    both = _with_target_width()
    both["domains"][0].update(
        estimates_decided=True, budget_can_move=True, budget_why="the verdicts are decided and ..."
    )
    LiveSnapshot.objects.filter(study=study).update(data=both)
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert (
        '<p class="live-budget" data-domain="cardiology">Human labels: <strong>can move to other '
        "domains</strong>"
    ) in page


def test_a_snapshot_without_a_target_width_shows_no_width_status(researcher_client, no_build):
    """An older snapshot (no width fields) and one built without a target width read alike:
    no width or budget line, no target beside the widths."""
    study = StudyFactory()
    snapshot = LiveSnapshot.objects.create(
        study=study, status="done", data=DATA, n_annotations=0, built_at=timezone.now()
    )
    for data in (DATA, _without_target(_with_target_width())):
        LiveSnapshot.objects.filter(pk=snapshot.pk).update(data=data)
        page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
        assert 'class="live-width"' not in page and 'class="live-budget"' not in page
        assert "Estimates at the target width" not in page and "target</td>" not in page
        assert "analysis.target_width" not in page
        assert 'data-domain="cardiology">cardiology: <strong>decided</strong>' in page
    # without a target, the widths are shown alone; an older snapshot has none
    assert '<td class="num live-ci-width">0.500</td>' in page


def _without_target(data: dict) -> dict:
    data["settings"]["target_width"] = None
    for domain in data["domains"]:
        domain.update(estimates_decided=None, budget_can_move=domain["decided"])
        for group in domain["groups"]:
            for judge in group["judges"]:
                judge["estimate"]["width_reached"] = None
    return data


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


def _with_plan() -> dict:
    """_with_target_width()'s data with the plan a build adds at that width: `plan_summary` of a
    synthetic table at width 0.5 (the first errors reachable, the ratings not), one domain renamed
    to markup that must come out as text."""
    from analysis.plan import plan_summary
    from tests.analysis.tidy_factory import make_tidy

    data = _with_target_width()
    data["plan"] = plan_summary(make_tidy(n_items=40), width=0.5, epsilon=0.15, overlap=3)
    for row in data["plan"]["pilot"] + data["plan"]["judge_only"]["rows"]:
        if row["domain"] == "math":
            row["domain"] = "<b>math</b>"
    return data


def test_the_page_shows_the_plan_of_the_snapshot(researcher_client, no_build):
    study = StudyFactory()
    data = _with_plan()
    plan = data["plan"]
    LiveSnapshot.objects.create(
        study=study, status="done", data=data, n_annotations=0, built_at=timezone.now()
    )
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert "<h3>Plan at the target width 0.5</h3>" in page
    assert f"<code>python manage.py plan_study {study.slug}</code>" in page
    first, coherence, _ = plan["pilot"]
    assert (
        '<tr class="plan-row"><td>&lt;b&gt;math&lt;/b&gt;</td><td>first_error</td><td>–</td><td>critic</td>'
        f'<td class="num">40</td><td class="num">40</td><td class="num">{first["human_only"]}</td>'
        f'<td class="num">{first["ppi"]}</td><td class="muted"></td></tr>'
    ) in page
    assert (coherence["human_only"], coherence["ppi"]) == (None, None)
    assert (
        '<td>summaries</td><td>rubric</td><td>coherence</td><td>critic</td><td class="num">40</td>'
        '<td class="num">40</td><td class="num">not reachable</td><td class="num">not reachable</td>'
    ) in page
    assert "<b>math</b>" not in page  # escaped everywhere
    # the judge-only table: a column per assumed correlation
    header = "".join(f'<th class="num">With PPI, ρ = {rho}</th>' for rho in plan["judge_only"]["rho_grid"])
    assert header == (
        '<th class="num">With PPI, ρ = 0.0</th><th class="num">With PPI, ρ = 0.5</th>'
        '<th class="num">With PPI, ρ = 0.8</th>'
    )
    assert header in page
    row = plan["judge_only"]["rows"][0]
    cells = "".join(f'<td class="num">{n}</td>' for n in [row["human_only"], *row["ppi"]])
    assert f'<td class="num">{row["sd_judge"]:.3f}</td>{cells}</tr>' in page
    assert page.count('<td class="num">not reachable</td>') == 2 * 2 + 2 * 4  # pilot and judge-only
    assert (
        f'<p class="plan-alt-test">Alternative-annotator test at epsilon 0.15: {plan["alt_test"]["items"]} '
        "items per domain, each labelled by 3 annotators (overlap k ≥ 3; the study has k = 3).</p>"
    ) in page
    for text in plan["assumptions"]:
        assert f"<li>{escape(text)}</li>" in page

    # nothing reachable, nothing yet to plan from: the table says so
    data["plan"].update(pilot=[], judge_only={"rho_grid": [0.0, 0.5, 0.8], "rows": []})
    data["plan"]["alt_test"]["items"] = None
    LiveSnapshot.objects.filter(study=study).update(data=data)
    page = researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert "No item-level ratings yet: nothing to plan from." in page
    assert 'class="plan-judge-only"' not in page
    assert "Alternative-annotator test at epsilon 0.15: not reachable, each labelled by 3" in page


def test_a_snapshot_without_a_plan_shows_no_plan_block(researcher_client, no_build):
    """Snapshots built before plans, or without a target width, hold no "plan": no block, no error."""
    study = StudyFactory()
    snapshot = LiveSnapshot.objects.create(
        study=study, status="done", data=_with_plan(), n_annotations=0, built_at=timezone.now()
    )
    assert 'class="live-plan"' in researcher_client.get(f"/researcher/studies/{study.slug}/").content.decode()
    for data in (DATA, _with_target_width(), {**_with_plan(), "plan": None}):
        LiveSnapshot.objects.filter(pk=snapshot.pk).update(data=data)
        response = researcher_client.get(f"/researcher/studies/{study.slug}/")
        page = response.content.decode()
        assert response.status_code == 200
        assert 'class="live-plan"' not in page and "Plan at the target width" not in page
        assert 'data-domain="cardiology">cardiology: <strong>decided</strong>' in page
