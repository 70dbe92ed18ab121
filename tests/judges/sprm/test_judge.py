import json

import numpy as np
import pytest

from judges.base import Judge, build_judge
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.io import save_model
from judges.sprm.judge import SPRMJudge
from judges.sprm.steps import split_solution
from judges.sprm.train import TrainConfig, fit
from judges.types import Persona, ReasoningTask, Step, SummaryTask


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, minilm):
    from tests.judges.sprm.conftest import make_solutions

    out = tmp_path_factory.mktemp("sprm-model")
    save_model(fit(make_solutions(), SentenceFeaturizer(minilm), TrainConfig(epochs=2)), out)
    return out


def task(item_id, text, rule="lines"):
    return ReasoningTask(
        item_id=item_id, problem="What is 2 + 3 + 4?", steps=tuple(split_solution(text, rule))
    )


def test_registry_builds_the_sprm_judge(model_dir):
    judge = build_judge("sprm", {"model_dir": str(model_dir), "threshold": 0.5, "batch_size": 2})
    assert isinstance(judge, SPRMJudge)
    assert isinstance(judge, Judge)
    assert judge.kind == "sprm"


def test_verdicts_carry_scores_thresholded_labels_and_first_error(model_dir):
    tasks = [
        task("a", "2 + 3 = 5\n5 + 4 = 9\nA: 9"),
        task("b", "2 + 3 = 6\n6 + 4 = 10\nA: 10"),
        task("c", "<think>2 + 3 is 5.\n\nPlus 4 is 9.</think>\n\nSo 9.\n\nA: 9", "blank_lines"),
    ]
    for threshold in (0.3, 0.5, 0.7):
        judge = SPRMJudge.from_config({"model_dir": str(model_dir), "threshold": threshold, "batch_size": 2})
        verdicts = judge.judge(tasks)
        assert len(verdicts) == 3
        for t, v in zip(tasks, verdicts, strict=True):
            assert v.ok
            assert len(v.step_scores) == len(t.steps)
            assert all(0.0 <= s <= 1.0 for s in v.step_scores)
            assert v.step_labels == [1 if s >= threshold else -1 for s in v.step_scores]
            below = [i for i, s in enumerate(v.step_scores) if s < threshold]
            assert v.first_error == (below[0] if below else -1)
            assert v.score == pytest.approx(np.exp(np.mean(np.log(v.step_scores))))
            assert v.prompt_version == judge.version()
        assert verdicts[0].trajectory_score is None
        assert verdicts[2].trajectory_score is not None


def test_version_changes_with_threshold_and_weights(model_dir, tmp_path, minilm):
    a = SPRMJudge.from_config({"model_dir": str(model_dir)})
    assert a.version() == SPRMJudge.from_config({"model_dir": str(model_dir)}).version()
    assert a.version() != SPRMJudge.from_config({"model_dir": str(model_dir), "threshold": 0.6}).version()
    from tests.judges.sprm.conftest import make_solutions

    save_model(fit(make_solutions(), SentenceFeaturizer(minilm), TrainConfig(epochs=2, seed=1)), tmp_path)
    assert a.version() != SPRMJudge.from_config({"model_dir": str(tmp_path)}).version()


def test_threshold_can_come_from_the_training_outcomes(model_dir):
    judge = SPRMJudge.from_config({"model_dir": str(model_dir), "threshold": "outcome"})
    card = json.loads((model_dir / "card.json").read_text())
    assert judge.threshold == card["outcome_threshold"]["value"]
    [v] = judge.judge([task("a", "2 + 3 = 5\n5 + 4 = 9\nA: 9")])
    assert v.step_labels == [1 if s >= judge.threshold else -1 for s in v.step_scores]


def test_items_it_cannot_judge_fail_with_a_reason(model_dir):
    judge = SPRMJudge.from_config({"model_dir": str(model_dir)})
    summary = SummaryTask(item_id="s", document="d", summary="s", persona=Persona("p", "d"), criteria=())
    empty = ReasoningTask(item_id="e", problem="p", steps=())
    ok = ReasoningTask(item_id="o", problem="p", steps=(Step(0, "x = 1"),))
    verdicts = judge.judge([summary, empty, ok])
    assert [v.ok for v in verdicts] == [False, False, True]
    assert verdicts[0].error == "the SPRM judges reasoning items only"
    assert verdicts[1].error == "the item has no steps to score"


def test_bad_config_is_refused(model_dir):
    with pytest.raises(ValueError, match="SPRM judge config needs 'model_dir'"):
        SPRMJudge.from_config({})
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\), got 1.5"):
        SPRMJudge.from_config({"model_dir": str(model_dir), "threshold": 1.5})
