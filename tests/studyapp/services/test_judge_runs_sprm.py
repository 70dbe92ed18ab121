"""An SPRM judge in a study: a judge run through Celery (eager) stores continuous
step scores, thresholded step labels, the first error and the trajectory score."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from judges.sprm.encoder import load_sentence_encoder
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.io import save_model
from judges.sprm.train import TrainConfig, fit
from studyapp.models import JudgeRun, Judgment, Rater
from studyapp.services.judge_runs import judge_run_start
from studyapp.services.study_load import study_load
from tests.judges.sprm.conftest import make_solutions

pytestmark = pytest.mark.django_db

ITEMS = [
    {
        "id": f"r{i}",
        "problem": f"What is {i} + {i} + 1?",
        "trajectory": ["Let me add.", f"{i} + {i} = {2 * i + (i == 1)}."],
        "response": [f"Then {2 * i} + 1 = {2 * i + 1}.", f"The answer is {2 * i + 1}."],
        "outcome": i != 1,
    }
    for i in range(3)
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sprm-model")
    featurizer = SentenceFeaturizer(load_sentence_encoder())
    save_model(fit(make_solutions(), featurizer, TrainConfig(epochs=2)), out)
    return out


@pytest.fixture
def study(tmp_path: Path, model_dir: Path):
    summary = {"id": "s0", "kind": "summary", "persona": "reader", "document": "D.", "summary": "S."}
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in [*ITEMS, summary]))
    spec = {
        "slug": "sprm-judged",
        "title": "SPRM judged",
        "domains": [{"name": "math"}],
        "personas": [{"name": "reader"}],
        "rubric": {"criteria": [{"name": "fit"}]},
        "sources": [{"path": "items.jsonl", "format": "native", "domain": "math"}],
        "judges": [
            {
                "name": "sprm",
                "kind": "sprm",
                "config": {"model_dir": str(model_dir), "threshold": 0.5, "batch_size": 2},
            }
        ],
    }
    path = tmp_path / "study.yaml"
    path.write_text(json.dumps(spec))
    return study_load(path=path).study


def test_an_sprm_run_stores_step_scores_labels_and_first_error(
    study, eager, django_capture_on_commit_callbacks
):
    rater = Rater.objects.get(study=study, name="sprm", active=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=rater)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE, run.error
    # The SPRM judges reasoning traces only: the summary item is not in its run.
    assert run.n_items == 3 and not Judgment.objects.filter(rater=rater, item__kind="summary").exists()
    judgments = Judgment.objects.filter(rater=rater).order_by("item__external_id")
    assert [j.status for j in judgments] == [Judgment.Status.DONE] * 3
    for j in judgments:
        labels = list(j.labels.order_by("step__index").values_list("step__index", "score", "value"))
        assert [index for index, _, _ in labels] == [0, 1, 2, 3]  # trajectory then response steps
        scores = [score for _, score, _ in labels]
        assert all(0.0 < s < 1.0 for s in scores)  # continuous, not rounded to labels
        assert [value for _, _, value in labels] == [1.0 if s >= 0.5 else -1.0 for s in scores]
        below = [i for i, s in enumerate(scores) if s < 0.5]
        assert j.first_error == (below[0] if below else -1)
        assert j.score == pytest.approx(math.exp(sum(math.log(s) for s in scores) / 4))
        assert j.trajectory_score is not None and 0.0 <= j.trajectory_score <= 1.0
        assert j.prompt_version == run.judge_version


def test_a_model_gone_before_the_worker_loads_it_fails_the_run_with_the_reason(
    study, model_dir, tmp_path, eager, django_capture_on_commit_callbacks
):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    rater = Rater.objects.get(study=study, name="sprm", active=True)
    Rater.objects.filter(pk=rater.pk).update(config={**rater.config, "model_dir": str(copy)})
    rater.refresh_from_db()
    with django_capture_on_commit_callbacks() as enqueue:
        run = judge_run_start(study=study, rater=rater)
    (copy / "card.json").unlink()
    for callback in enqueue:
        callback()  # the chunk task, eagerly: it must not raise
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED
    assert run.error == (
        f"judge sprm: model_dir: no trained model in {copy}: card.json is missing. To fix: train one with "
        f"`python manage.py train_sprm --data FILE --format FORMAT --out {copy}` (the demo study's: "
        "`python manage.py demo` trains it)."
    )
    assert set(Judgment.objects.filter(rater=rater).values_list("status", flat=True)) == {"pending"}
