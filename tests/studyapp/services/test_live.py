"""`services.live`: the debounce flag, the leased build, "decided" on a real study, the
recovery of a lost or stale refresh. Real workers: tests/studyapp/test_live_worker.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studyapp.models import LiveSnapshot, WorkerProcess
from studyapp.selectors.live import live_annotation_count, study_live
from studyapp.services.live import live_refresh_request, live_snapshot_build, live_snapshots_recover
from studyapp.services.study_load import study_load
from tests.studyapp.live_study import load_live_study, write_live_study

pytestmark = pytest.mark.django_db


def test_a_built_snapshot_says_which_domain_is_decided_and_why(tmp_path, django_capture_on_commit_callbacks):
    study = load_live_study(tmp_path)
    with django_capture_on_commit_callbacks() as queued:
        assert live_refresh_request(study_id=study.pk) is True
        assert live_refresh_request(study_id=study.pk) is False  # one refresh for both
    assert len(queued) == 1

    snapshot = live_snapshot_build(study_id=study.pk)
    assert snapshot is not None
    assert (snapshot.status, snapshot.pending, snapshot.worker, snapshot.attempts) == ("done", False, None, 0)
    assert snapshot.n_annotations == live_annotation_count(study=study) == 2 * 60 * 3
    assert snapshot.error == "" and snapshot.built_at is not None

    live = study_live(study=study)
    assert live["since"] == 0 and live["refreshing"] is False
    assert "plan" not in snapshot.data and live["plan"] is None  # no target width: no plan
    assert live["settings"]["n_resamples"] == 200 and live["settings"]["epsilon"] == 0.1
    domains = {d["domain"]: d for d in live["domains"]}
    news, stories = domains["news"], domains["stories"]
    assert news["decided"] is True
    (group,) = news["groups"]
    assert (group["level"], group["criterion"], group["reliable"]) == ("rubric", "accuracy", True)
    (critic,) = group["judges"]
    assert critic["judge"] == "critic" and critic["decision"] == "replace"
    assert critic["estimate"]["n_labelled"] == 60 and critic["estimate"]["n_unlabelled"] == 30
    assert critic["estimate"]["value"] is not None and len(critic["estimate"]["ci"]) == 2

    assert stories["decided"] is False
    assert stories["why"].startswith("rubric/accuracy, critic: no verdict while people disagree")
    assert stories["groups"][0]["reliable"] is False


def test_the_spec_target_width_reaches_the_snapshot(tmp_path):
    """The build reads `analysis.target_width` from the stored spec: at a width every interval
    reaches, news (verdict decided) can give its labels away; stories (people disagree) cannot."""
    spec = write_live_study(tmp_path, n=40, unrated=20)
    spec.write_text(spec.read_text() + "analysis:\n  target_width: 4\n")
    study = study_load(path=spec).study
    live_refresh_request(study_id=study.pk)
    live_snapshot_build(study_id=study.pk)
    live = study_live(study=study)
    assert live["settings"]["target_width"] == 4.0
    domains = {d["domain"]: d for d in live["domains"]}
    news, stories = domains["news"], domains["stories"]
    estimate = news["groups"][0]["judges"][0]["estimate"]
    assert 0 < estimate["width"] <= 4 and estimate["width_reached"] is True
    assert (news["decided"], news["estimates_decided"], news["budget_can_move"]) == (True, True, True)
    assert (stories["decided"], stories["estimates_decided"], stories["budget_can_move"]) == (
        False,
        True,
        False,
    )
    assert (
        stories["budget_why"]
        == "the estimates reached the target width, but the verdicts are not decided yet"
    )


def _planned_live_study(tmp_path, width: float = 1.2):
    spec = write_live_study(tmp_path, n=40, unrated=20)
    spec.write_text(spec.read_text() + f"analysis:\n  target_width: {width}\n  epsilon: 0.2\n")
    return study_load(path=spec).study


def test_a_snapshot_at_a_target_width_holds_the_plan(tmp_path):
    """With the spec's target width the snapshot holds `plan_summary` at it (the spec's epsilon,
    the study's overlap). Without one it holds no plan: the first test of this module."""
    import json

    from analysis.plan import alt_test_items, plan_table
    from studyapp.selectors.ratings import ratings_table

    study = _planned_live_study(tmp_path)
    live_refresh_request(study_id=study.pk)
    live_snapshot_build(study_id=study.pk)
    snapshot = LiveSnapshot.objects.get(study=study)
    plan = snapshot.data["plan"]
    json.dumps(snapshot.data, allow_nan=False)
    assert (plan["width"], plan["alpha"]) == (1.2, 0.05)
    assert plan["alt_test"] == {"epsilon": 0.2, "annotators": 3, "items": alt_test_items(0.2), "overlap": 3}
    expected = plan_table(ratings_table(study=study, include_gold=False), width=1.2)
    got = [(r["domain"], r["criterion"], r["judge"], r["n_units"], r["n_pilot"]) for r in plan["pilot"]]
    assert got == [("news", "accuracy", "critic", 60, 40), ("stories", "accuracy", "critic", 60, 40)]
    assert [(r["human_only"], r["ppi"]) for r in plan["pilot"]] == [
        (int(h), int(p)) for h, p in zip(expected["human_only"], expected["ppi"], strict=True)
    ]
    news = plan["pilot"][0]
    assert news["ppi"] < news["human_only"]  # the critic rates news as people do: PPI saves labels
    assert [r["domain"] for r in plan["judge_only"]["rows"]] == ["news", "stories"]
    assert study_live(study=study)["plan"] == plan


def test_plan_study_prints_the_numbers_of_the_snapshot_plan(tmp_path):
    """`manage.py plan_study SLUG` at the spec's target width and the dashboard's plan are one plan:
    every row of both tables and the alt-test's items, read back from the command's text."""
    from io import StringIO

    from django.core.management import call_command

    study = _planned_live_study(tmp_path, width=0.6)
    live_refresh_request(study_id=study.pk)
    live_snapshot_build(study_id=study.pk)
    plan = LiveSnapshot.objects.get(study=study).data["plan"]
    out = StringIO()
    call_command("plan_study", study.slug, stdout=out)
    lines = out.getvalue().splitlines()

    def rows_after(header: str) -> list[list[str]]:
        start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 2
        return [line.split(" | ") for line in lines[start : start + 2]]

    def n(v):
        return "not reachable" if v is None else str(v)

    def key(r):
        return [r["domain"], r["level"], r["criterion"] or "-", r["judge"], str(r["n_units"])]

    pilot = [[*key(r), str(r["n_pilot"]), n(r["human_only"]), n(r["ppi"]), r["note"]] for r in plan["pilot"]]
    assert rows_after("From a pilot") == pilot and len(pilot) == 2
    judge_only = [
        [*key(r), f"{r['sd_judge']:.3g}", n(r["human_only"]), *map(n, r["ppi"])]
        for r in plan["judge_only"]["rows"]
    ]
    assert rows_after("From the judge's labels alone") == judge_only
    assert "not reachable" in str(pilot + judge_only) and any(r["ppi"] for r in plan["pilot"])  # both kinds
    alt = next(i for i, line in enumerate(lines) if line.startswith("Alternative-annotator test"))
    assert lines[alt].startswith(
        f"Alternative-annotator test at epsilon 0.2: {plan['alt_test']['items']} items per domain"
    )
    assert lines[alt + 1 :] == ["Assumptions:"] + [f"- {a}" for a in plan["assumptions"]]


def test_annotations_during_a_build_queue_one_more_refresh(
    tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    """An annotation that arrives while the worker builds sets pending again (the build
    cleared it when it took the lease): the build ends queued and queues one more."""
    import studyapp.services.live as live

    study = load_live_study(tmp_path, n=40, unrated=0)
    real = live._build
    arrivals = []

    def build_with_an_arrival(study):
        arrivals.append(live_refresh_request(study_id=study.pk))
        return real(study)

    monkeypatch.setattr(live, "_build", build_with_an_arrival)
    live_refresh_request(study_id=study.pk)
    with django_capture_on_commit_callbacks() as queued:
        snapshot = live_snapshot_build(study_id=study.pk)
    assert arrivals == [True]  # pending had been cleared: the arrival queued a refresh
    assert len(queued) == 2  # the arrival's, and the build's own "one more"
    assert (snapshot.status, snapshot.pending, snapshot.worker) == ("queued", True, None)
    assert snapshot.data is not None and snapshot.n_annotations == 2 * 40 * 3

    monkeypatch.setattr(live, "_build", real)
    assert live_snapshot_build(study_id=study.pk).status == "done"  # the next delivery
    assert live_snapshot_build(study_id=study.pk).status == "done"  # a later one: nothing to do
    assert LiveSnapshot.objects.get(study=study).pending is False


def test_a_failed_build_keeps_the_last_estimates_and_says_why(tmp_path, monkeypatch):
    import studyapp.services.live as live

    study = load_live_study(tmp_path, n=40, unrated=0)
    live_refresh_request(study_id=study.pk)
    built = live_snapshot_build(study_id=study.pk)

    def broken(study):
        raise RuntimeError("no memory left")

    monkeypatch.setattr(live, "_build", broken)
    live_refresh_request(study_id=study.pk)
    failed = live_snapshot_build(study_id=study.pk)
    assert (failed.status, failed.pending, failed.error) == ("done", False, "RuntimeError: no memory left")
    assert failed.data == built.data and failed.built_at == built.built_at


def _lost_worker() -> WorkerProcess:
    """A worker process row on this machine whose process has exited."""
    from studyapp.services.workers import pid_space

    return WorkerProcess.objects.create(
        hostname="gone", pid=2**22 + 1, pid_space=pid_space(), heartbeat_at=timezone.now()
    )


@pytest.mark.parametrize(("attempts", "after"), [(1, "queued"), (2, "done")])
def test_a_lost_workers_refresh_is_queued_again_once(
    tmp_path, attempts, after, django_capture_on_commit_callbacks
):
    study = load_live_study(tmp_path, n=10, unrated=0)
    snap = LiveSnapshot.objects.create(
        study=study, status="running", worker=_lost_worker(), attempts=attempts, pending=True
    )
    with django_capture_on_commit_callbacks() as queued:
        assert live_snapshots_recover() == 1
    snap.refresh_from_db()
    assert (snap.status, snap.worker) == (after, None)
    if after == "queued":
        assert len(queued) == 1 and snap.pending is True
    else:
        assert queued == [] and snap.pending is False and snap.attempts == 0
        assert snap.error.startswith("the worker process refreshing these estimates died 2 times")


def test_a_refresh_queued_long_ago_that_no_worker_took_is_queued_again(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    study = load_live_study(tmp_path, n=10, unrated=0)
    settings.LIVE_STALE_SECONDS = 600
    old = timezone.now() - timedelta(seconds=601)
    snap = LiveSnapshot.objects.create(study=study, status="queued", pending=True, requested_at=old)
    with django_capture_on_commit_callbacks() as queued:
        assert live_snapshots_recover() == 1
        assert live_snapshots_recover() == 0  # once per LIVE_STALE_SECONDS
    assert len(queued) == 1
    snap.refresh_from_db()
    assert snap.requested_at > old and snap.status == "queued"
    LiveSnapshot.objects.filter(pk=snap.pk).update(requested_at=timezone.now() - timedelta(seconds=30))
    assert live_snapshots_recover() == 0  # a recent one is waiting for its countdown


def test_a_judge_run_that_finishes_queues_a_refresh(django_capture_on_commit_callbacks):
    from studyapp.models import JudgeRun
    from studyapp.services.judge_runs import judge_run_finish_if_complete
    from tests.factories import JudgeRunFactory

    run = JudgeRunFactory(status=JudgeRun.Status.RUNNING)
    with django_capture_on_commit_callbacks() as queued:
        assert judge_run_finish_if_complete(run_id=run.pk) is True
        assert judge_run_finish_if_complete(run_id=run.pk) is False  # already done: nothing more
    assert len(queued) == 1
    snap = LiveSnapshot.objects.get(study_id=run.study_id)
    assert (snap.pending, snap.status) == (True, "queued")
