"""A critic judging pairs through a judge run (Celery eager, the real HTTP test server):
both orders asked, the combined preference stored as a Label about the underlying
responses, both verdicts in Judgment.raw.orders (the form of an imported judge, which the
report's position statistics read), a schema-breaking answer a failed judgment without
labels, the swap option, batch mode, the pairwise report over the critic's judgments, and
one run through a real Celery worker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from studyapp.models import JudgeRun, Judgment, Label, Rater, Study
from studyapp.services.judge_runs import judge_run_start, judge_runs_collect_batches
from studyapp.services.study_load import study_load
from tests.support.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.support.workers import wait_until

pytestmark = pytest.mark.django_db

# in each pair the response that names a prime is the better one; pair-1 has it as B
PAIRS = [
    {
        "id": f"pair-{i}",
        "kind": "pairwise",
        "domain": "chat",
        "prompt": f"Name a prime above {i}.",
        "response_a": f"GOOD {i + 100}" if i % 2 == 0 else f"BAD {i}",
        "response_b": f"BAD {i}" if i % 2 == 0 else f"GOOD {i + 100}",
        "metadata": {"model_a": "m1", "model_b": "m2"},
        "annotations": [{"rater": "expert", "preferences": {"overall": "A" if i % 2 == 0 else "B"}}],
    }
    for i in range(4)
]


def pair_spec(tmp_path: Path, base_url: str, *, allow_tie: bool = True, **config: Any) -> Path:
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(x) + "\n" for x in PAIRS))
    judge = {
        "model": "gpt-4o-mini",
        "base_url": base_url,
        "api_key_env": None,
        "cache": False,
        "max_attempts": 1,
        **config,
    }
    spec = {
        "slug": "pairs",
        "title": "Pairs",
        "status": "closed",
        "domains": [{"name": "chat"}],
        "annotation": {"allow_tie": allow_tie},
        "rubric": {"name": "preference", "criteria": [{"name": "overall", "scale": [-1, 1]}]},
        "sources": [{"path": "pairs.jsonl", "format": "native"}],
        "judges": [{"name": "critic", "kind": "critic", "config": judge}],
    }
    path = tmp_path / "study.yaml"
    path.write_text(json.dumps(spec))
    return path


def shown(request: RecordedRequest) -> tuple[str, str]:
    """The two responses as the prompt shows them, first slot first."""
    found = re.search(r"\[Response A\]\s*(.*?)\s*\[Response B\]\s*(.*?)\s*\[Criteria\]", request.prompt, re.S)
    assert found is not None, request.prompt
    return found[1], found[2]


def preference(slot: str) -> Reply:
    return Reply.ok(json.dumps({"overall": {"rationale": f"slot {slot}", "preference": slot}}))


def content_judge(request: RecordedRequest) -> Reply:
    """Picks the slot that holds the good response: consistent across orders."""
    first, _second = shown(request)
    return preference("A" if first.startswith("GOOD") else "B")


def first_slot_judge(request: RecordedRequest) -> Reply:
    """Always the first slot: inconsistent on every pair."""
    return preference("A")


def load(tmp_path: Path, server: FakeOpenAI, **kw: Any) -> tuple[Study, Rater]:
    study = study_load(path=pair_spec(tmp_path, server.base_url, **kw)).study
    return study, Rater.objects.get(study=study, name="critic")


def run(study: Study, rater: Rater, capture: Any, mode: str = "sync") -> JudgeRun:
    with capture(execute=True):
        started = judge_run_start(study=study, rater=rater, mode=mode)
    started.refresh_from_db()
    return started


def stored(rater: Rater) -> dict[str, float]:
    return dict(
        Label.objects.filter(judgment__rater=rater).values_list("judgment__item__external_id", "value")
    )


def test_a_judge_run_stores_the_combined_preference_and_both_orders(
    tmp_path, openai_server, eager, django_capture_on_commit_callbacks
):
    openai_server.responder = content_judge
    study, rater = load(tmp_path, openai_server)
    done = run(study, rater, django_capture_on_commit_callbacks)
    assert done.status == JudgeRun.Status.DONE and done.n_items == 4
    assert openai_server.calls() == 8  # two orders per pair
    # stored about the underlying responses: A where A is good, B (-1) where B is
    assert stored(rater) == {"pair-0": 1.0, "pair-1": -1.0, "pair-2": 1.0, "pair-3": -1.0}
    j1 = Judgment.objects.get(rater=rater, item__external_id="pair-1")
    assert j1.status == Judgment.Status.DONE
    assert j1.raw["orders"] == {"overall": {"ab": "B", "ba": "B"}}
    assert j1.raw["consistent"] == {"overall": True}
    assert j1.prompt_version.startswith("pairwise_preference@")
    assert j1.tokens_in > 0 and j1.attempts == 2
    # the second request of each pair shows B first
    prompts = [shown(r) for r in openai_server.requests()]
    assert sum(first.startswith("GOOD") for first, _ in prompts) == 4

    out = tmp_path / "report.json"
    call_command("report", "pairs", "--format", "json", "--out", str(out), "--resamples", "50")
    (section,) = json.loads(out.read_text())["pairwise"]
    (judge,) = section["judges"]
    assert judge["judge"] == "critic" and judge["agreement"]["with_ties"] == pytest.approx(1.0)


def test_orders_that_disagree_are_stored_as_a_tie(
    tmp_path, openai_server, eager, django_capture_on_commit_callbacks
):
    openai_server.responder = first_slot_judge
    study, rater = load(tmp_path, openai_server)
    run(study, rater, django_capture_on_commit_callbacks)
    assert stored(rater) == {f"pair-{i}": 0.0 for i in range(4)}
    raws = Judgment.objects.filter(rater=rater).values_list("raw", flat=True)
    assert all(r["orders"] == {"overall": {"ab": "A", "ba": "B"}} for r in raws)
    assert all(r["consistent"] == {"overall": False} for r in raws)
    out = tmp_path / "report.json"
    call_command("report", "pairs", "--format", "json", "--out", str(out), "--resamples", "50")
    (judge,) = json.loads(out.read_text())["pairwise"][0]["judges"]
    position = judge["position"]
    assert (position["n_pairs"], position["consistency"], position["first_slot_share"]) == (4, 0.0, 1.0)
    assert position["inconsistent_first_slot"] == 4
    # against the expert: right in each order on half the pairs, never in both
    assert (judge["order_accuracy"]["accuracy_average"], judge["order_accuracy"]["correct_both"]) == (0.5, 0)


def test_an_answer_the_schema_does_not_admit_fails_the_judgment(
    tmp_path, openai_server, eager, django_capture_on_commit_callbacks
):
    # ties are not allowed in this study: "tie" is refused and counted as a failure
    openai_server.responder = lambda request: preference("tie")
    study, rater = load(tmp_path, openai_server, allow_tie=False)
    done = run(study, rater, django_capture_on_commit_callbacks)
    assert done.status == JudgeRun.Status.DONE
    failed = Judgment.objects.filter(rater=rater)
    assert set(failed.values_list("status", flat=True)) == {Judgment.Status.FAILED}
    assert all("'tie' is not one of ['A', 'B']" in e for e in failed.values_list("error", flat=True))
    assert not Label.objects.filter(judgment__rater=rater).exists()
    enum = openai_server.requests()[0].body["response_format"]["json_schema"]["schema"]
    assert enum["properties"]["overall"]["properties"]["preference"]["enum"] == ["A", "B"]


def test_the_swap_turned_off_asks_once_per_pair(
    tmp_path, openai_server, eager, django_capture_on_commit_callbacks
):
    openai_server.responder = first_slot_judge
    study, rater = load(tmp_path, openai_server, swap_orders=False)
    run(study, rater, django_capture_on_commit_callbacks)
    assert openai_server.calls() == 4
    assert stored(rater) == {f"pair-{i}": 1.0 for i in range(4)}  # A, shown first every time
    assert all(
        r["orders"] == {"overall": {"ab": "A"}} and "consistent" not in r
        for r in Judgment.objects.filter(rater=rater).values_list("raw", flat=True)
    )


def test_batch_mode_sends_both_orders(tmp_path, openai_server, eager, django_capture_on_commit_callbacks):
    openai_server.responder = content_judge
    study, rater = load(tmp_path, openai_server)
    started = run(study, rater, django_capture_on_commit_callbacks, mode="batch")
    assert started.status == JudgeRun.Status.RUNNING and openai_server.calls() == 0
    assert judge_runs_collect_batches() == 0  # the server answers "in_progress" once
    assert judge_runs_collect_batches() == 1
    started.refresh_from_db()
    assert started.status == JudgeRun.Status.DONE and openai_server.calls() == 8
    assert stored(rater) == {"pair-0": 1.0, "pair-1": -1.0, "pair-2": 1.0, "pair-3": -1.0}
    raw = Judgment.objects.get(rater=rater, item__external_id="pair-2").raw
    assert raw["orders"] == {"overall": {"ab": "A", "ba": "A"}} and raw["batch"] is True
    (upload,) = [f for f, meta in openai_server.files.items() if meta["purpose"] == "batch"]
    ids = sorted(json.loads(line)["custom_id"] for line in openai_server.file_data[upload].splitlines())
    pks = sorted(Judgment.objects.filter(rater=rater).values_list("pk", flat=True))
    assert ids == sorted(f"{pk}#{order}" for pk in pks for order in ("ab", "ba"))


@pytest.mark.django_db(transaction=True)  # the worker is another process: real commits
def test_a_real_worker_judges_the_pairs_in_both_orders(tmp_path, broker, workers):
    with FakeOpenAI() as server:
        server.responder = content_judge
        study, rater = load(tmp_path, server)
        started = judge_run_start(study=study, rater=rater)  # enqueued on commit
        workers.start("pairs")
        wait_until(
            lambda: JudgeRun.objects.get(pk=started.pk).status == JudgeRun.Status.DONE, "the worker to finish"
        )
        assert server.calls() == 8
    assert stored(rater) == {"pair-0": 1.0, "pair-1": -1.0, "pair-2": 1.0, "pair-3": -1.0}
    raws = dict(Judgment.objects.filter(rater=rater).values_list("item__external_id", "raw"))
    assert raws["pair-3"]["orders"] == {"overall": {"ab": "B", "ba": "B"}}
    assert all(r["consistent"] == {"overall": True} for r in raws.values())
