import numpy as np
import pytest

from judges.sprm.evaluate import baseline_step_scores, evaluate
from judges.sprm.features import SentenceFeaturizer
from judges.sprm.train import TrainConfig, fit


def test_report_has_the_model_and_every_baseline_on_the_same_data(hash_encoder, solutions):
    model = fit(solutions, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=2))
    report = evaluate(model, solutions, n_boot=50)
    assert report["n_solutions"] == len(solutions)
    assert set(report["baselines"]) == {"position_prior", "random", "always_correct"}
    for block in [report["model"], *report["baselines"].values()]:
        auc = block["step_auroc"]
        assert 0.0 <= auc["ci_low"] <= auc["value"] <= auc["ci_high"] <= 1.0
        assert set(block["processbench"]) == {"acc1", "acc2", "f1"}
        assert "best_of_n" in block
    assert set(report["best_of_n_baselines"]) == {"random_choice", "oracle", "majority_vote"}
    # always-correct predicts no error: perfect on correct traces, never right on wrong ones
    pb = report["baselines"]["always_correct"]["processbench"]
    assert pb["acc1"]["value"] == 0.0 and pb["acc2"]["value"] == 1.0 and pb["f1"]["value"] == 0.0
    assert report["baselines"]["always_correct"]["step_auroc"]["value"] == 0.5


def test_majority_vote_and_oracle_on_the_synthetic_problems(hash_encoder, solutions):
    model = fit(solutions, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=1))
    report = evaluate(model, solutions, n_boot=20)
    by_group: dict[str, list[bool]] = {}
    for s in solutions:
        by_group.setdefault(s.group, []).append(bool(s.outcome))
    oracle = np.mean([any(v) for v in by_group.values()])
    assert report["best_of_n_baselines"]["oracle"]["value"] == pytest.approx(oracle)


def test_position_prior_falls_along_the_trace(solutions):
    scores = baseline_step_scores("position_prior", solutions[:1])[0]
    np.testing.assert_allclose(scores, [1.0, 2 / 3, 1 / 3])
    with pytest.raises(ValueError, match="unknown baseline 'oracle'"):
        baseline_step_scores("oracle", solutions)
