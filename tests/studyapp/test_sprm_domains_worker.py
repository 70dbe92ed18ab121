"""The SPRM as a study judge on every new format, through a real Celery worker: a study
of small slices of ProcessBench, MR-Ben (multiple choice and code), ROSCOE and SummEdits
(from ../shared/data), an SPRM trained on its outcome labels, and a judge run that a
worker process (not eager Celery) completes with a score and a label stored per step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judges.sprm.encoder import load_sentence_encoder
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.io import save_model
from judges.sprm.train import TrainConfig, fit
from studyapp.importers.solutions import read_solutions
from studyapp.models import Item, JudgeRun, Judgment, Label, Rater
from studyapp.services.judge_runs import judge_run_start
from studyapp.services.study_load import study_load
from tests.studyapp.management.commands.test_sprm_domains import (
    mr_ben_slice,
    processbench_slice,
    roscoe_slice,
    summedits_slice,
)
from tests.support.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def sources(shared: Path, out: Path) -> list[tuple[str, Path, str]]:
    """(format, file, source domain) of each slice, each in its own folder."""
    made = []
    for fmt, make, domain, kwargs in [
        ("processbench", processbench_slice, "math", {}),
        ("mr_ben", mr_ben_slice, None, {"subject": "biology", "n": 2}),
        ("mr_ben", mr_ben_slice, None, {"subject": "coding", "n": 1}),
        ("roscoe", roscoe_slice, "reading", {"n": 6}),
        ("summedits", summedits_slice, "summaries", {"n": 4}),
    ]:
        folder = out / f"{fmt}-{len(made)}"
        folder.mkdir()
        made.append((fmt, make(shared, folder, **kwargs), domain))
    return made


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
def test_an_sprm_judges_every_new_format_in_a_worker(tmp_path, shared_data, broker, workers):
    made = sources(shared_data, tmp_path)
    solutions = [s for fmt, path, _ in made for s in read_solutions([path], fmt)]
    model_dir = tmp_path / "model"
    featurizer = SentenceFeaturizer(load_sentence_encoder())
    save_model(fit(solutions, featurizer, TrainConfig(epochs=2)), model_dir)
    spec = {
        "slug": "sprm-domains",
        "title": "SPRM across domains",
        "domains": [{"name": n} for n in ("math", "biology", "coding", "reading", "summaries")],
        "sources": [
            {"path": str(path), "format": fmt, **({"domain": domain} if domain else {})}
            for fmt, path, domain in made
        ],
        "judges": [
            {"name": "sprm", "kind": "sprm", "config": {"model_dir": str(model_dir), "threshold": 0.5}}
        ],
    }
    (tmp_path / "study.yaml").write_text(json.dumps(spec))
    study = study_load(path=tmp_path / "study.yaml").study
    rater = Rater.objects.get(study=study, name="sprm", active=True)
    n_items = Item.objects.filter(study=study).count()
    assert n_items == len(solutions)
    by_source = {
        fmt: Item.objects.filter(study=study, external_id__startswith=prefix).count()
        for fmt, prefix in [
            ("processbench", "gsm8k-"),
            ("mr_ben", "mr_ben/"),
            ("roscoe", "roscoe/"),
            ("summedits", "summedits/"),
        ]
    }
    assert by_source == {"processbench": 16, "mr_ben": 9, "roscoe": by_source["roscoe"], "summedits": 4}
    assert by_source["roscoe"] >= 3
    assert set(Item.objects.filter(study=study).values_list("domain__name", flat=True)) == {
        "math",
        "biology",
        "coding",
        "reading",
        "summaries",
    }

    run = judge_run_start(study=study, rater=rater)  # enqueued on commit (transaction=True)
    workers.start("sprm")
    wait_until(
        lambda: JudgeRun.objects.get(pk=run.pk).status in (JudgeRun.Status.DONE, JudgeRun.Status.FAILED),
        "the worker to finish the run",
        deadline=600,
    )
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE, (run.error, workers.log("sprm")[-3000:])
    assert run.n_items == n_items
    judgments = Judgment.objects.filter(rater=rater).select_related("item")
    assert judgments.count() == n_items
    assert {j.status for j in judgments} == {Judgment.Status.DONE}
    for j in judgments:
        n_steps = j.item.steps.count()
        labels = list(
            Label.objects.filter(judgment=j).order_by("step__index").values_list("step__index", "score")
        )
        assert [index for index, _ in labels] == list(range(n_steps))  # one stored label a step
        assert all(0.0 < score < 1.0 for _, score in labels)
        assert j.first_error is not None and -1 <= j.first_error < n_steps
