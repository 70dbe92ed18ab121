import dataclasses

import numpy as np
import pytest
import torch

from judges.sprm.features import SentenceFeaturizer
from judges.sprm.train import TrainConfig, fit, train_head


def weights(model):
    return {k: v.clone() for k, v in model.head.state_dict().items()}


def test_same_seed_gives_identical_weights_and_another_seed_does_not(hash_encoder, solutions):
    f = SentenceFeaturizer(hash_encoder)
    a = weights(fit(solutions, f, TrainConfig(epochs=3, seed=7)))
    b = weights(fit(solutions, f, TrainConfig(epochs=3, seed=7)))
    c = weights(fit(solutions, f, TrainConfig(epochs=3, seed=8)))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_training_never_reads_step_labels(hash_encoder, solutions):
    f = SentenceFeaturizer(hash_encoder)
    stripped = [dataclasses.replace(s, step_labels=None) for s in solutions]
    flipped = [
        dataclasses.replace(s, step_labels=[-1 if v == 1 else 1 for v in (s.step_labels or [])])
        for s in solutions
    ]
    a, b = fit(stripped, f, TrainConfig(epochs=2)), fit(flipped, f, TrainConfig(epochs=2))
    assert all(torch.equal(weights(a)[k], weights(b)[k]) for k in weights(a))
    assert a.card["data_hash"] == b.card["data_hash"]


def test_history_logs_kept_fraction_per_class_per_epoch(hash_encoder, solutions):
    model = fit(solutions, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=3, warmup_epochs=1))
    history = model.card["training"]["history"]
    assert [h["phase"] for h in history] == ["warmup", "sprm", "sprm"]
    assert history[0]["kept_pos"] == 1.0 and history[0]["kept_neg"] == 1.0  # warm-up filters nothing
    for h in history[1:]:
        assert 0.0 <= h["kept_pos"] <= 1.0 and 0.0 <= h["kept_neg"] <= 1.0


@pytest.mark.parametrize(
    ("variant", "phase", "kept_pos"),
    [("orm", "orm", 1.0), ("last_step", "last_step", 1 / 3)],
)
def test_baseline_variants_train_with_the_same_code(variant, phase, kept_pos):
    feats = [np.eye(3, 4, dtype=np.float32) + i for i in range(4)]
    result = train_head(feats, [True, False, True, False], TrainConfig(variant=variant, epochs=1))
    [log] = result.history
    assert log.phase == phase
    assert log.kept_pos == pytest.approx(kept_pos)  # last step only: 1 of 3 steps
    assert not result.collapsed


def test_a_filter_that_keeps_no_step_of_a_class_is_marked_collapsed(hash_encoder, solutions):
    # Constant features and no dropout: every step gets the same logit, so one class
    # always disagrees with its pseudo-label and is filtered out entirely.
    feats = [np.zeros((len(s.steps), 8), dtype=np.float32) for s in solutions]
    config = TrainConfig(epochs=3, warmup_epochs=1, dropout=0.0)
    result = train_head(feats, [bool(s.outcome) for s in solutions], config)
    assert result.collapsed
    assert result.collapsed_epochs == [1, 2]
    assert all(min(h.kept_pos, h.kept_neg) == 0.0 for h in result.history[1:])


def test_collapse_reaches_the_card(hash_encoder, solutions):
    class Constant(SentenceFeaturizer):
        def build(self, sols):
            feats = super().build(sols)
            for f in feats:
                f.x[:] = 0.0
            return feats

    model = fit(solutions, Constant(hash_encoder), TrainConfig(epochs=2, dropout=0.0))
    assert model.card["training"]["collapsed"] is True
    assert model.card["training"]["collapsed_epochs"] == [1]


def test_bad_config_and_unlabelled_data_are_refused(hash_encoder, solutions):
    with pytest.raises(ValueError, match="unknown variant 'prm'"):
        TrainConfig(variant="prm")
    unlabelled = [dataclasses.replace(solutions[0], outcome=None)]
    with pytest.raises(ValueError, match="every training solution needs an outcome label"):
        fit(unlabelled, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=1))


def test_calibration_holdout_trains_on_the_rest_and_calibrates_on_the_held_problems(hash_encoder, solutions):
    from judges.sprm.calibrate import fit_product_calibration
    from judges.sprm.data import split_by_group
    from judges.sprm.score import head_scores

    f = SentenceFeaturizer(hash_encoder)
    held_model = fit(solutions, f, TrainConfig(epochs=2, calibration_holdout=0.4))
    rest, held = split_by_group(list(solutions), test_fraction=0.4, seed=0, salt="calibration:")
    assert rest and held
    plain = fit(rest, f, TrainConfig(epochs=2))
    # the head never saw the held problems: the same weights as training on the rest alone
    assert all(torch.equal(weights(held_model)[k], weights(plain)[k]) for k in weights(plain))
    assert held_model.card["n_solutions"] == len(rest)
    assert held_model.card["n_calibration_solutions"] == len(held)
    # and the calibration is the product fit on the held problems' outcomes
    expected = fit_product_calibration(
        [head_scores(plain.head, x.x) for x in f.build(held)], [bool(s.outcome) for s in held]
    )
    # (this hold-out's fit is flat, a ~ 1e-5: equal up to the optimiser's tolerance)
    assert held_model.card["calibration"]["a"] == pytest.approx(expected["a"], abs=1e-4)
    assert held_model.card["calibration"]["b"] == pytest.approx(expected["b"], rel=1e-4, abs=1e-4)
    assert plain.card["n_calibration_solutions"] == len(rest)


def test_calibration_holdout_never_reads_step_labels(hash_encoder, solutions):
    f = SentenceFeaturizer(hash_encoder)
    stripped = [dataclasses.replace(s, step_labels=None) for s in solutions]
    flipped = [
        dataclasses.replace(s, step_labels=[-1 if v == 1 else 1 for v in (s.step_labels or [])])
        for s in solutions
    ]
    config = TrainConfig(epochs=2, calibration_holdout=0.4)
    a, b = fit(stripped, f, config), fit(flipped, f, config)
    assert all(torch.equal(weights(a)[k], weights(b)[k]) for k in weights(a))
    assert a.card["calibration"] == b.card["calibration"]
    assert a.card["outcome_threshold"] == b.card["outcome_threshold"]


def test_a_bad_calibration_holdout_is_refused(hash_encoder, solutions):
    with pytest.raises(ValueError, match="calibration_holdout must be in"):
        TrainConfig(calibration_holdout=1.0)
    one_problem = [s for s in solutions if s.group == solutions[0].group]
    with pytest.raises(ValueError, match="leaves no problem with steps on one side"):
        fit(one_problem, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=1, calibration_holdout=0.5))


def _imbalanced(seed: int = 0, n: int = 300):
    """85% wrong outcomes, steps that carry a weak trace of the outcome."""
    rng = np.random.default_rng(seed)
    outcomes = rng.random(n) < 0.15
    feats = []
    for o in outcomes:
        x = rng.normal(size=(4, 8)).astype(np.float32)
        x[:, 0] += 0.3 if o else -0.3
        feats.append(x)
    return feats, list(outcomes)


def test_the_balanced_filter_keeps_both_classes_where_the_zero_filter_starves_one():
    feats, outcomes = _imbalanced()
    base = TrainConfig(epochs=5, batch_size=64)
    zero = train_head(feats, outcomes, dataclasses.replace(base, filter_centre="zero")).history
    balanced = train_head(feats, outcomes, base).history
    # at logit 0 the positives drain out of the loss epoch after epoch
    assert zero[-1].kept_pos < 0.2 < 0.8 < zero[-1].kept_neg
    assert [h.centre for h in zero[1:]] == [0.0] * 4
    for h in balanced[1:]:  # the centre follows the logits: both classes stay in
        assert min(h.kept_pos, h.kept_neg) > 0.4
        assert abs(h.kept_pos - h.kept_neg) < 0.2
        assert h.centre is not None and h.centre != 0.0
    assert balanced[0].centre is None  # the warm-up filters nothing


def test_the_filter_centre_reaches_the_card_and_a_bad_one_is_refused(hash_encoder, solutions):
    model = fit(solutions, SentenceFeaturizer(hash_encoder), TrainConfig(epochs=3))
    history = model.card["training"]["history"]
    assert history[0]["centre"] is None and all(isinstance(h["centre"], float) for h in history[1:])
    assert model.card["hyperparameters"]["filter_centre"] == "balanced"
    with pytest.raises(ValueError, match="unknown filter_centre 'median'"):
        TrainConfig(filter_centre="median")


def test_the_filter_centre_reads_the_most_recent_window_of_logits():
    from judges.sprm.loss import balanced_filter_centre
    from judges.sprm.train import _FilterCentre

    rng = np.random.default_rng(1)
    batches = [
        (torch.from_numpy(rng.normal(size=40) + k), torch.from_numpy((rng.random(40) < 0.2) * 1.0))
        for k in range(6)
    ]
    centres = _FilterCentre(TrainConfig(filter_window=100))
    assert centres.value("sprm") == 0.0  # nothing seen yet
    for z, y in batches:
        centres.add(z, y)
    # the last 100 steps need the last three batches of 40 (the oldest is dropped once
    # the others cover the window)
    z = np.concatenate([b[0].float().numpy() for b in batches[-3:]])  # kept as float32
    y = np.concatenate([b[1].numpy() for b in batches[-3:]])
    assert centres.value("sprm") == balanced_filter_centre(z, y)
    assert centres.value("warmup") == 0.0  # only SPR batches are filtered
    assert _FilterCentre(TrainConfig(filter_centre="zero")).value("sprm") == 0.0
    with pytest.raises(ValueError, match="filter_window must be at least 1"):
        TrainConfig(filter_window=0)
