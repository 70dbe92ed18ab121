"""Judge runs through Celery (eager here; a real worker in test_judge_worker.py)
against the fake OpenAI server: rows, labels, tokens, cost, retries of failed
items, cancellation, version changes and batch mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from studyapp.models import Item, JudgeChunk, JudgeRun, Judgment, Label, Rater, Study
from studyapp.selectors.judge_runs import judge_run_progress
from studyapp.services.judge_runs import (
    JudgeRunError,
    judge_run_cancel,
    judge_run_chunk_size,
    judge_run_execute_chunk,
    judge_run_start,
    judge_runs_collect_batches,
)
from studyapp.services.study_load import study_load
from tests.support.openai_server import FakeOpenAI, Reply, critique_responder, rubric_responder

pytestmark = pytest.mark.django_db

REASONING = [
    {
        "id": f"r{i}",
        "problem": f"What is {i} + {i}?",
        "trajectory": ["Let me add.", f"{i} + {i} = {2 * i}."],
        "response": [f"The answer is {2 * i}."],
        "outcome": True,
    }
    for i in range(3)
]
SUMMARIES = [
    {"id": f"s{i}", "kind": "summary", "persona": "patient", "document": f"Doc {i}.", "summary": "Sum."}
    for i in range(2)
]


def critic_spec(tmp_path: Path, base_url: str, **config: Any) -> Path:
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in REASONING + SUMMARIES))
    judge_config = {
        "model": "gpt-4o-mini",
        "base_url": base_url,
        "api_key_env": None,
        "cache": False,
        "max_attempts": 2,
        "backoff_initial": 0.01,
        "concurrency": 4,
        **config,
    }
    spec = {
        "slug": "judged",
        "title": "Judged",
        "domains": [{"name": "math"}],
        "personas": [{"name": "patient", "description": "no medical training", "prompt": "Plain words."}],
        "rubric": {
            "name": "r",
            "criteria": [
                {"name": "accuracy", "description": "supported", "scale": [1, 5]},
                {"name": "fit", "description": "suits the reader", "scale": [1, 5]},
            ],
        },
        "sources": [{"path": "items.jsonl", "format": "native", "domain": "math"}],
        "judges": [{"name": "critic", "kind": "critic", "config": judge_config}],
    }
    path = tmp_path / "study.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path


def answer_everything(request):
    if "[Rubric]" in request.prompt:
        return rubric_responder(4)(request)
    return critique_responder(request)


@pytest.fixture
def study(tmp_path: Path, openai_server: FakeOpenAI) -> Study:
    return study_load(path=critic_spec(tmp_path, openai_server.base_url)).study


def critic(study: Study) -> Rater:
    return Rater.objects.get(study=study, name="critic", active=True)


@pytest.mark.django_db(transaction=True)  # the tasks are enqueued on a real commit
def test_run_judges_end_to_end(study, openai_server, eager, capsys):
    openai_server.responder = answer_everything
    call_command("run_judges", "judged", "--wait", "--poll", "0.05")
    out = capsys.readouterr().out
    assert "critic: run" in out and "5 item(s) to judge" in out
    assert "critic: done, 5 done, 0 failed, 0 pending" in out

    assert openai_server.calls() == 5
    run = JudgeRun.objects.get()
    assert run.status == JudgeRun.Status.DONE and run.finished_at is not None
    judgments = Judgment.objects.filter(rater=critic(study))
    assert judgments.count() == 5
    assert set(judgments.values_list("status", flat=True)) == {Judgment.Status.DONE}
    # reasoning: a label per step (3 steps each) and the first error
    r0 = judgments.get(item__external_id="r0")
    assert r0.first_error == -1
    assert list(r0.labels.order_by("step__index").values_list("step__index", "value")) == [
        (0, 1.0),
        (1, 1.0),
        (2, 1.0),
    ]
    assert r0.prompt_version.startswith("step_critique@")
    # summaries: a rating and a rationale per criterion
    s0 = judgments.get(item__external_id="s0")
    assert sorted(s0.labels.values_list("criterion__name", "value", "rationale")) == [
        ("accuracy", 4.0, "fine"),
        ("fit", 4.0, "fine"),
    ]
    assert Label.objects.filter(judgment__rater=critic(study)).count() == 3 * 3 + 2 * 2
    # tokens add up over the judgments, and cost follows the price table (gpt-4o-mini)
    assert run.tokens_in == sum(judgments.values_list("tokens_in", flat=True)) > 0
    assert run.tokens_out == sum(judgments.values_list("tokens_out", flat=True)) > 0
    assert run.cost == pytest.approx((run.tokens_in * 0.15 + run.tokens_out * 0.60) / 1e6)
    assert judge_run_progress(run=run) | {} == judge_run_progress(run=run)
    assert judge_run_progress(run=run)["done"] == 5


def test_a_second_run_makes_no_call(study, openai_server, eager, django_capture_on_commit_callbacks):
    openai_server.responder = answer_everything
    with django_capture_on_commit_callbacks(execute=True):
        judge_run_start(study=study, rater=critic(study))
    assert openai_server.calls() == 5
    with django_capture_on_commit_callbacks(execute=True):
        again = judge_run_start(study=study, rater=critic(study))
    assert openai_server.calls() == 5
    assert again.n_items == 0 and again.status == JudgeRun.Status.DONE
    assert Judgment.objects.count() == 5


def test_a_failed_item_is_recorded_then_retried_by_the_next_run(
    study,
    openai_server,
    eager,
    django_capture_on_commit_callbacks,
):
    def respond(request):
        if "What is 1 + 1?" in request.prompt:
            return Reply.ok("I think step 2 is wrong.")
        return answer_everything(request)

    openai_server.responder = respond
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study))
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    failed = Judgment.objects.get(status=Judgment.Status.FAILED)
    assert failed.item.external_id == "r1"
    assert failed.error == "no JSON object in the output"
    assert failed.raw["outputs"] == ["I think step 2 is wrong."]
    assert failed.first_error is None and not failed.labels.exists()
    assert judge_run_progress(run=run) | {"done": 4, "failed": 1, "pending": 0} == judge_run_progress(run=run)

    openai_server.responder = answer_everything
    with django_capture_on_commit_callbacks(execute=True):
        retry = judge_run_start(study=study, rater=critic(study))
    assert retry.n_items == 1 and openai_server.calls() == 6
    failed.refresh_from_db()
    assert failed.status == Judgment.Status.DONE and failed.error == "" and failed.run == retry
    assert Judgment.objects.count() == 5


def test_api_errors_fail_the_item_with_the_reason(
    study, openai_server, eager, django_capture_on_commit_callbacks
):
    openai_server.responder = lambda request: Reply.error(401, "bad key")
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study), items=Item.objects.filter(external_id="r0"))
    judgment = Judgment.objects.get()
    assert judgment.status == Judgment.Status.FAILED
    assert "HTTP 401" in judgment.error and "bad key" in judgment.error
    assert openai_server.calls() == 1
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE


def test_a_cancelled_run_judges_nothing_more(study, openai_server, eager, django_capture_on_commit_callbacks):
    openai_server.responder = answer_everything
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = judge_run_start(study=study, rater=critic(study))
    assert judge_run_cancel(run=run)
    assert run.status == JudgeRun.Status.CANCELLED
    for callback in callbacks:
        callback()  # the queued chunk arrives after the cancellation
    assert openai_server.calls() == 0
    assert Judgment.objects.filter(status=Judgment.Status.PENDING).count() == 5
    # a later run picks the pending items up
    with django_capture_on_commit_callbacks(execute=True):
        later = judge_run_start(study=study, rater=critic(study))
    assert later.n_items == 5 and openai_server.calls() == 5


def test_one_run_at_a_time_per_judge(study, openai_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        judge_run_start(study=study, rater=critic(study))
    with pytest.raises(JudgeRunError, match="already has run"):
        judge_run_start(study=study, rater=critic(study))


def test_a_changed_judge_is_refused_instead_of_overwriting(
    study,
    openai_server,
    eager,
    django_capture_on_commit_callbacks,
):
    openai_server.responder = answer_everything
    rater = critic(study)
    with django_capture_on_commit_callbacks(execute=True):
        judge_run_start(study=study, rater=rater, items=Item.objects.filter(external_id="r0"))
    rater.config = {**rater.config, "temperature": 0.7}  # e.g. a prompt file edited in place
    rater.save()
    with pytest.raises(JudgeRunError, match="its prompts or parameters changed"):
        judge_run_start(study=study, rater=rater)


def test_chunks_hold_rounds_of_the_critics_concurrency(
    study, eager, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from studyapp.services import judge_runs

    chunks: list[int] = []

    def execute(*, chunk_id: int) -> None:
        chunks.append(len(JudgeChunk.objects.get(pk=chunk_id).judgment_ids))

    monkeypatch.setattr(judge_runs, "judge_run_execute_chunk", execute)
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = 2, 1
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study))  # 5 items, concurrency 4
    assert chunks == [4, 1]  # not [2, 2, 1]: a chunk of 2 would never have 4 requests in flight
    assert judge_run_chunk_size(run=run) == 4
    settings.JUDGE_CHUNK_ROUNDS = 3
    assert judge_run_chunk_size(run=run) == 12
    settings.JUDGE_CHUNK_SIZE = 50
    assert judge_run_chunk_size(run=run) == 50  # the setting is the floor
    run.rater.config = {k: v for k, v in run.rater.config.items() if k != "concurrency"}
    settings.JUDGE_CHUNK_SIZE = 2
    assert judge_run_chunk_size(run=run) == 2  # no concurrency named (an SPRM): the setting


def test_a_redelivered_chunk_only_completes_what_is_pending(
    study,
    openai_server,
    eager,
    settings,
    django_capture_on_commit_callbacks,
):
    openai_server.responder = answer_everything
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = 2, 0
    with django_capture_on_commit_callbacks(execute=False):
        run = judge_run_start(study=study, rater=critic(study))
    first, second, third = run.chunks.order_by("pk")
    assert [len(c.judgment_ids) for c in (first, second, third)] == [2, 2, 1]
    assert judge_run_execute_chunk(chunk_id=first.pk) == 2
    # the same chunk again (delivered twice): it is done, nothing is asked again
    assert judge_run_execute_chunk(chunk_id=first.pk) == 0
    # a chunk whose worker died after saving one verdict: the next delivery does the rest
    Judgment.objects.filter(pk=second.judgment_ids[0]).update(status=Judgment.Status.DONE)
    assert judge_run_execute_chunk(chunk_id=second.pk) == 1
    assert judge_run_execute_chunk(chunk_id=third.pk) == 1
    assert openai_server.calls() == 4
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE
    assert Judgment.objects.filter(status=Judgment.Status.DONE).count() == 5
    assert set(run.chunks.values_list("status", "attempts")) == {("done", 1)}


def test_batch_mode_submits_then_the_periodic_task_collects(
    study,
    openai_server,
    eager,
    django_capture_on_commit_callbacks,
):
    openai_server.responder = answer_everything
    openai_server.batch_polls_before_done = 1
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study), mode="batch")
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING and run.batch_id.startswith("batch-")
    assert openai_server.calls() == 0  # nothing judged until the batch runs

    assert judge_runs_collect_batches() == 0  # in progress
    run.refresh_from_db()
    assert run.batch_status == "in_progress"
    assert judge_runs_collect_batches() == 1
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.batch_status == "completed"
    assert Judgment.objects.filter(status=Judgment.Status.DONE).count() == 5
    assert openai_server.calls() == 5
    # the batch price: half of the live one for gpt-4o-mini
    assert run.cost == pytest.approx((run.tokens_in * 0.15 + run.tokens_out * 0.60) / 1e6 * 0.5)
    assert judge_runs_collect_batches() == 0  # nothing left to collect


def test_researcher_starts_and_watches_a_run_from_the_dashboard(
    client, study, openai_server, eager, django_capture_on_commit_callbacks, django_user_model
):
    openai_server.responder = answer_everything
    researcher = django_user_model.objects.create_user("res", password="pw", is_staff=True)
    client.force_login(researcher)
    page = client.get("/researcher/studies/judged/").content.decode()
    assert "Start a judge run" in page and f'value="{critic(study).pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/researcher/studies/judged/judge-runs/", {"rater": critic(study).pk, "mode": "sync"}
        )
    assert response.status_code == 302
    run = JudgeRun.objects.get()
    assert run.status == JudgeRun.Status.DONE and openai_server.calls() == 5
    page = client.get("/researcher/studies/judged/").content.decode()
    assert f"Run {run.pk} of critic started on 5 items." in page
    assert "5 / 0 / 0" in page  # done / failed / pending
    # A second start judges nothing new; the refusal is shown, no call is made.
    client.post("/researcher/studies/judged/judge-runs/", {"rater": critic(study).pk, "mode": "sync"})
    assert openai_server.calls() == 5


def test_annotators_cannot_start_or_cancel_runs(client, study, django_user_model):
    run = JudgeRun.objects.create(study=study, rater=critic(study), status=JudgeRun.Status.RUNNING)
    client.force_login(django_user_model.objects.create_user("ann", password="pw"))
    assert (
        client.post("/researcher/studies/judged/judge-runs/", {"rater": critic(study).pk}).status_code == 403
    )
    assert client.post(f"/researcher/studies/judged/judge-runs/{run.pk}/cancel/").status_code == 403
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.RUNNING and JudgeRun.objects.count() == 1
