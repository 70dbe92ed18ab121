import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from judges.base import Judge, build_judge, judge_config_problems
from judges.config import MODEL_INVALID, MODEL_MISSING, JudgeConfigError
from judges.sprm.config import CARD_FILE, WEIGHTS_FILE
from judges.sprm.encoder import MINILM_ID
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


def _refusal(config: dict) -> JudgeConfigError:
    with pytest.raises(JudgeConfigError) as info:
        build_judge("sprm", config)
    return info.value


def test_bad_config_is_refused(model_dir):
    assert str(_refusal({})) == "model_dir: required, not given"
    assert str(_refusal({"model_dir": str(model_dir), "threshold": 1.5})) == (
        'threshold: must be a number between 0 and 1 (exclusive), or "outcome" (got 1.5)'
    )
    assert str(_refusal({"model_dir": str(model_dir), "batch_size": 0, "thresold": 0.5})) == (
        "batch_size: Input should be greater than or equal to 1 (got 0); "
        "thresold: unknown key (did you mean 'threshold'?)"
    )
    with pytest.raises(JudgeConfigError, match="model_dir: required"):  # the class itself too
        SPRMJudge.from_config({})


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    return out


def _edit_card(path: Path, **changes: object) -> None:
    card = json.loads((path / CARD_FILE).read_text())
    card.update(changes)
    (path / CARD_FILE).write_text(json.dumps(card))


NOT_JSON = "is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
OTHER_FORMAT = "is format 'hf-transformers', not concordance-sprm/1: not a model this version can load"


@pytest.mark.parametrize(
    ("damage", "code", "message"),
    [
        (shutil.rmtree, MODEL_MISSING, "no model directory at {d}"),
        (lambda d: (d / CARD_FILE).unlink(), MODEL_MISSING, "no trained model in {d}: card.json is missing"),
        (lambda d: (d / CARD_FILE).write_text("{not json"), MODEL_INVALID, "{d}/card.json " + NOT_JSON),
        (lambda d: (d / CARD_FILE).write_text("[1]"), MODEL_INVALID, "{d}/card.json is not a JSON object"),
        (lambda d: _edit_card(d, format="hf-transformers"), MODEL_INVALID, "{d}/card.json " + OTHER_FORMAT),
        (lambda d: _edit_card(d, feature_dim="384"), MODEL_INVALID, "{d}/card.json has no valid feature_dim"),
        (lambda d: (d / WEIGHTS_FILE).unlink(), MODEL_INVALID, "{d} has no weights.safetensors"),
    ],
)
def test_a_model_directory_that_cannot_serve_says_what_is_wrong(model_dir, tmp_path, damage, code, message):
    d = _copy(model_dir, tmp_path)
    damage(d)
    [problem] = _refusal({"model_dir": str(d)}).problems
    assert (problem.field, problem.code, problem.message) == (("model_dir",), code, message.format(d=d))


def test_weights_or_an_encoder_it_cannot_load_are_said_too(model_dir, tmp_path):
    d = _copy(model_dir, tmp_path)
    (d / WEIGHTS_FILE).write_bytes(b"\x00" * 16)
    error = _refusal({"model_dir": str(d)})
    assert str(error).startswith(f"model_dir: cannot load the model in {d}: SafetensorError: ")
    assert error.problems[0].code == MODEL_INVALID

    d = _copy(model_dir, tmp_path / "b")
    featurizer = json.loads((model_dir / CARD_FILE).read_text())["featurizer"]
    _edit_card(d, encoder_id="another", featurizer={**featurizer, "encoder_id": "another"})
    error = _refusal({"model_dir": str(d)})
    assert (
        str(error)
        == f"model_dir: cannot load the model in {d}: encoder '{MINILM_ID}' is not the card's 'another'"
    )
    assert error.problems[0].code == MODEL_INVALID


def test_a_variant_it_cannot_run_and_a_missing_outcome_threshold_are_refused(model_dir, tmp_path):
    d = _copy(model_dir, tmp_path)
    _edit_card(d, variant="finetuned")
    assert str(_refusal({"model_dir": str(d)})) == (
        f"model_dir: the model in {d} is variant 'finetuned', which this judge cannot run "
        "(it runs sprm, orm, last_step)"
    )
    _edit_card(d, variant="sprm", outcome_threshold=None)
    assert build_judge("sprm", {"model_dir": str(d), "threshold": 0.5}).threshold == 0.5
    assert str(_refusal({"model_dir": str(d), "threshold": "outcome"})) == (
        f"threshold: the model in {d} has no outcome_threshold: give a number"
    )


def test_a_relative_model_dir_is_shown_with_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = judge_config_problems("sprm", {"model_dir": "models/none"})
    assert [str(p) for p in problems] == [
        f"model_dir: no model directory at models/none ({tmp_path}/models/none)"
    ]
