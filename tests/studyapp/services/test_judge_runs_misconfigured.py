"""A judge that cannot be built: refused with the message when a run is started
(service, dashboard), and in the worker the run fails with the message, once, instead
of a task that raises at every delivery or every batch poll."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from studyapp.models import JudgeRun, Judgment, Rater, Study
from studyapp.services.judge_runs import (
    JudgeRunError,
    judge_run_cancel_batch,
    judge_run_start,
    judge_runs_collect_batches,
)
from studyapp.services.study_load import study_load
from tests.studyapp.services.test_judge_runs import answer_everything, critic_spec
from tests.support.openai_server import FakeOpenAI

pytestmark = pytest.mark.django_db

KEY_UNSET = (
    "judge critic: api_key_env: environment variable CONC_TEST_KEY is not set. To fix: set it where "
    "runs are started (web server, run_judges) and for the Celery workers."
)


def load(tmp_path: Path, base_url: str, **config: object) -> Study:
    return study_load(path=critic_spec(tmp_path, base_url, **config)).study


def critic(study: Study) -> Rater:
    return Rater.objects.get(study=study, name="critic", active=True)


def sprm_rater(study: Study, model_dir: Path) -> Rater:
    return Rater.objects.create(
        study=study,
        kind=Rater.Kind.JUDGE,
        judge_kind="sprm",
        name="sprm",
        config={"model_dir": str(model_dir)},
    )


def test_a_start_is_refused_with_what_fixes_it(tmp_path, openai_server, monkeypatch):
    monkeypatch.delenv("CONC_TEST_KEY", raising=False)
    study = load(tmp_path, openai_server.base_url, api_key_env="CONC_TEST_KEY")
    with pytest.raises(JudgeRunError) as info:
        judge_run_start(study=study, rater=critic(study))
    assert str(info.value) == KEY_UNSET
    missing = tmp_path / "no-model"
    with pytest.raises(JudgeRunError) as info:
        judge_run_start(study=study, rater=sprm_rater(study, missing))
    assert str(info.value) == (
        f"judge sprm: model_dir: no model directory at {missing}. To fix: train one with `python manage.py "
        f"train_sprm --data FILE --format FORMAT --out {missing}` (the demo study's: `python manage.py demo` "
        "trains it)."
    )
    assert not JudgeRun.objects.exists() and not Judgment.objects.exists()


def test_a_rater_stored_before_configs_were_checked_is_refused_too(tmp_path, openai_server):
    study = load(tmp_path, openai_server.base_url)
    rater = critic(study)
    Rater.objects.filter(pk=rater.pk).update(config={**rater.config, "concurrency": 0, "temprature": 1})
    rater.refresh_from_db()
    with pytest.raises(JudgeRunError) as info:
        judge_run_start(study=study, rater=rater)
    assert str(info.value) == (
        "judge critic: concurrency: Input should be greater than or equal to 1 (got 0); temprature: "
        "unknown key (did you mean 'temperature'?). To fix: fix the judge in the study spec and load it "
        "again (`python manage.py load_study SPEC`)."
    )


def test_the_dashboard_shows_the_refusal_instead_of_an_error_page(
    client, tmp_path, openai_server, monkeypatch, django_user_model
):
    monkeypatch.delenv("CONC_TEST_KEY", raising=False)
    study = load(tmp_path, openai_server.base_url, api_key_env="CONC_TEST_KEY")
    sprm = sprm_rater(study, tmp_path / "no-model")
    client.force_login(django_user_model.objects.create_user("res", password="pw", is_staff=True))
    for rater, message in [
        (critic(study), KEY_UNSET),
        (sprm, "judge sprm: model_dir: no model directory at"),
    ]:
        response = client.post("/researcher/studies/judged/judge-runs/", {"rater": rater.pk, "mode": "sync"})
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert f'<li class="error">{rater.name}: {message}' in page
    assert not JudgeRun.objects.exists()


def test_a_judge_that_breaks_after_the_start_fails_its_run_in_the_worker(
    tmp_path, openai_server, eager, django_capture_on_commit_callbacks
):
    openai_server.responder = answer_everything
    prompts = tmp_path / "prompts"
    shutil.copytree(Path(__file__).parents[3] / "judges" / "critic" / "prompts", prompts)
    study = load(tmp_path, openai_server.base_url, prompt_dir=str(prompts))
    with django_capture_on_commit_callbacks() as enqueue:
        run = judge_run_start(study=study, rater=critic(study))
    (prompts / "rubric_rating.user.txt").unlink()  # gone before the worker builds the judge
    for callback in enqueue:
        callback()  # the chunk task, run eagerly: it must not raise
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED and run.finished_at is not None
    assert run.error == (
        f"judge critic: prompt_dir: {prompts} lacks rubric_rating.user.txt. To fix: add the template files "
        "(docs/judges.md) or remove prompt_dir."
    )
    assert openai_server.calls() == 0
    assert set(Judgment.objects.values_list("status", flat=True)) == {Judgment.Status.PENDING}


def batch_run(tmp_path: Path, server: FakeOpenAI, status: str, batch_id: str) -> JudgeRun:
    """A batch run of a critic whose key is in CONC_TEST_KEY, at the provider as `batch_id`."""
    study = load(tmp_path, server.base_url, api_key_env="CONC_TEST_KEY")
    return JudgeRun.objects.create(
        study=study, rater=critic(study), mode=JudgeRun.Mode.BATCH, status=status, batch_id=batch_id
    )


def test_a_batch_whose_judge_cannot_be_built_fails_once_not_at_every_poll(
    tmp_path, openai_server, monkeypatch, caplog
):
    monkeypatch.setenv("CONC_TEST_KEY", "sk-test")
    run = batch_run(tmp_path, openai_server, JudgeRun.Status.RUNNING, "batch-7")
    monkeypatch.delenv("CONC_TEST_KEY")  # the worker's environment lacks the key
    with caplog.at_level(logging.WARNING):
        assert judge_runs_collect_batches() == 0
        assert judge_runs_collect_batches() == 0
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED
    assert run.error == f"{KEY_UNSET} Its batch batch-7 was not collected."
    assert [r.levelname for r in caplog.records if r.name.startswith("studyapp")] == ["WARNING"]
    assert not any(r.exc_info for r in caplog.records)
    assert openai_server.calls(None) == 0


def test_cancelling_a_batch_whose_judge_cannot_be_built_says_so_on_the_run(
    tmp_path, openai_server, monkeypatch
):
    monkeypatch.delenv("CONC_TEST_KEY", raising=False)
    run = batch_run(tmp_path, openai_server, JudgeRun.Status.CANCELLED, "b-3")
    judge_run_cancel_batch(run_id=run.pk)  # the task body: it must not raise
    run.refresh_from_db()
    assert run.error == f"{KEY_UNSET} Its batch b-3 was not cancelled."
    assert openai_server.calls(None) == 0
