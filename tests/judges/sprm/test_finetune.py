"""The fine-tuned encoder: windows, the block-causal pass, training, save/load, the judge.

These use the real packaged MiniLM with a tiny configuration (short passes, a
dozen traces, one epoch, one torch thread)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from judges.base import build_judge
from judges.sprm.data import Solution
from judges.sprm.finetune import FinetunedFeaturizer, FinetuneSpec, plan_windows
from judges.sprm.io import load_model, save_model
from judges.sprm.steps import split_solution
from judges.sprm.train import TrainConfig, fit
from judges.types import ReasoningTask
from tests.judges.sprm.conftest import make_solutions

TINY = FinetuneSpec(max_length=64, max_problem_tokens=24, max_step_tokens=16)
BF16 = dataclasses.replace(TINY, precision="bf16")


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(**({"encoder": "finetune", "epochs": 1, "warmup_epochs": 0, "trace_batch": 4} | kw))


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def featurizer() -> FinetunedFeaturizer:
    return FinetunedFeaturizer(TINY)


def test_windows_score_every_step_once_within_the_length():
    lens = [10, 30, 25, 5, 40, 8, 12]
    windows = plan_windows(20, lens, 80)
    scored = [j for w in windows for j, s in zip(w.steps, w.scored, strict=True) if s]
    assert scored == list(range(len(lens)))
    for w in windows:
        assert 20 + sum(lens[j] for j in w.steps) <= 80
        assert w.steps == sorted(w.steps) and w.steps == list(range(w.steps[0], w.steps[-1] + 1))
        context = [j for j, s in zip(w.steps, w.scored, strict=True) if not s]
        assert context == w.steps[: len(context)]  # context first, the most recent earlier steps
    assert plan_windows(20, [10, 10], 80)[0].steps == [0, 1]  # fits: one window
    with pytest.raises(ValueError, match=r"step 1 .* does not fit"):
        plan_windows(20, [10, 70], 80)


def test_the_spec_refuses_a_length_a_step_cannot_fit_in():
    with pytest.raises(ValueError, match="max_length 40 is below"):
        FinetuneSpec(max_length=40, max_problem_tokens=24, max_step_tokens=16)


def test_a_step_score_does_not_see_later_steps_but_sees_earlier_ones(featurizer):
    steps = split_solution("He has 3 + 4 = 7 apples.\nThen 7 + 2 = 9 apples.\nA: 9", "lines")
    sol = Solution(
        problem="Tom has 3 apples, buys 4 and 2 more. How many?", steps=steps, outcome=None, group="g"
    )
    full = featurizer.build([sol])[0].x
    for i in range(1, len(steps)):
        cut = featurizer.build([dataclasses.replace(sol, steps=steps[:i])])[0].x
        np.testing.assert_allclose(cut, full[:i], atol=1e-5)  # the later steps change nothing
    changed_last = dataclasses.replace(sol, steps=[*steps[:2], dataclasses.replace(steps[2], text="A: 10")])
    other = featurizer.build([changed_last])[0].x
    np.testing.assert_allclose(other[:2], full[:2], atol=1e-5)
    assert not np.allclose(other[2], full[2], atol=1e-3)
    changed_first = dataclasses.replace(
        sol, steps=[dataclasses.replace(steps[0], text="He has 3 + 4 = 8."), *steps[1:]]
    )
    assert not np.allclose(featurizer.build([changed_first])[0].x[2], full[2], atol=1e-3)  # sees the past


def test_padding_in_a_batch_changes_no_score(featurizer):
    sols = make_solutions(n_problems=3, per_problem=2)
    alone = [featurizer.build([s])[0].x for s in sols]
    batched = [f.x for f in featurizer.build(sols, batch_traces=6)]
    for a, b in zip(alone, batched, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_long_trace_is_scored_in_windows(featurizer):
    text = "\n".join(
        f"Step {i}: add {i} apples to the basket and count them again carefully." for i in range(8)
    )
    sol = Solution(problem="How many apples?", steps=split_solution(text, "lines"), outcome=None, group="g")
    passes = featurizer.passes([sol])
    assert len(passes) > 1 and all(len(ids) <= TINY.max_length for _, ids, _, _ in passes)
    x = featurizer.build([sol])[0].x
    assert x.shape == (8, featurizer.dim) and np.isfinite(x).all()


def _weights(model) -> dict[str, torch.Tensor]:
    state = {f"head.{k}": v.clone() for k, v in model.head.state_dict().items()}
    state.update({f"encoder.{k}": v.clone() for k, v in model.featurizer.state_dict().items()})
    return state


@pytest.mark.parametrize(
    ("variant", "spec"), [("sprm", TINY), ("orm", TINY), ("last_step", TINY), ("sprm", BF16)]
)
def test_finetuning_never_reads_step_labels(variant, spec):
    sols = make_solutions(n_problems=4, per_problem=3)
    stripped = [dataclasses.replace(s, step_labels=None) for s in sols]
    flipped = [
        dataclasses.replace(s, step_labels=[-1 if v == 1 else 1 for v in (s.step_labels or [])]) for s in sols
    ]
    config = (
        tiny_config(variant=variant, warmup_epochs=1, epochs=2)
        if variant == "sprm"
        else tiny_config(variant=variant)
    )
    a = fit(stripped, FinetunedFeaturizer(spec), config)
    b = fit(flipped, FinetunedFeaturizer(spec), config)
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a.card["data_hash"] == b.card["data_hash"] and a.card["encoder_id"] == b.card["encoder_id"]
    base = FinetunedFeaturizer(spec).state_dict()
    assert any(not torch.equal(base[k], a.featurizer.state_dict()[k]) for k in base)  # the encoder trained
    assert a.card["hyperparameters"]["encoder"] == "finetune" and a.card["variant"] == variant


def test_same_seed_same_weights_other_seed_not():
    sols = make_solutions(n_problems=3, per_problem=2)
    runs = [_weights(fit(sols, FinetunedFeaturizer(TINY), tiny_config(seed=s))) for s in (1, 1, 2)]
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(torch.equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_a_frozen_featurizer_cannot_finetune_and_back(hash_encoder):
    from judges.sprm.features import SentenceFeaturizer

    with pytest.raises(ValueError, match="needs a FinetunedFeaturizer"):
        fit(make_solutions(2, 2), SentenceFeaturizer(hash_encoder), tiny_config())


def test_saved_model_loads_with_its_encoder_and_scores_the_same(tmp_path):
    sols = make_solutions(n_problems=3, per_problem=2)
    model = fit(sols, FinetunedFeaturizer(TINY), tiny_config(variant="orm"))
    # the features fit() took from the activation cache are the trained encoder's
    rebuilt = model.featurizer.build(sols)
    cal = model.card["calibration"]
    from judges.sprm.calibrate import apply_calibration
    from judges.sprm.score import head_scores

    minima = [apply_calibration(head_scores(model.head, f.x), cal["a"], cal["b"]).min() for f in rebuilt]
    from judges.sprm.score import outcome_threshold

    assert outcome_threshold(minima, [bool(s.outcome) for s in sols])[0] == pytest.approx(
        model.card["outcome_threshold"]["value"], abs=1e-6
    )
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.card["featurizer"]["kind"] == "finetune"
    assert loaded.card["featurizer"]["max_length"] == TINY.max_length
    assert loaded.featurizer.encoder_id == model.card["encoder_id"]
    for a, b in zip(model.score(sols), loaded.score(sols), strict=True):
        np.testing.assert_allclose(a.step_scores, b.step_scores, atol=1e-6)
    # the study judge loads it like a frozen model
    judge = build_judge("sprm", {"model_dir": str(tmp_path / "m"), "threshold": 0.5})
    task = ReasoningTask(item_id="x", problem=sols[0].problem, steps=tuple(sols[0].steps))
    [verdict] = judge.judge([task])
    assert verdict.ok and len(verdict.step_scores) == len(sols[0].steps)
    np.testing.assert_allclose(verdict.step_scores, model.score([sols[0]])[0].step_scores, atol=1e-6)


def test_weights_of_another_encoder_are_refused(tmp_path):
    import json

    model = fit(make_solutions(2, 2), FinetunedFeaturizer(TINY), tiny_config(variant="orm"))
    save_model(model, tmp_path / "m")
    card_path = tmp_path / "m" / "card.json"
    card = json.loads(card_path.read_text())
    card["encoder_id"] = "finetune:other"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="not the card's 'finetune:other'"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("train_layers", [2, 6])
def test_the_split_pass_equals_the_encoders_own_forward(train_layers):
    f = FinetunedFeaturizer(dataclasses.replace(TINY, train_layers=train_layers))
    sols = make_solutions(n_problems=2, per_problem=2)
    ours = f.build(sols, batch_traces=4)
    passes = f.passes(sols)
    length = max(len(p[1]) for p in passes)
    ids = torch.zeros((len(passes), length), dtype=torch.long)
    blocks = torch.full((len(passes), length), -1, dtype=torch.long)
    for r, (_, pid, pb, _) in enumerate(passes):
        ids[r, : len(pid)] = torch.tensor(pid)
        blocks[r, : len(pb)] = torch.tensor(pb)
    with torch.no_grad():
        hidden = f.encoder(input_ids=ids, attention_mask=f._mask(blocks)).last_hidden_state
    for r, (si, _, _, which) in enumerate(passes):
        for k, j in enumerate(which, start=1):
            np.testing.assert_allclose(ours[si].x[j], hidden[r, blocks[r] == k].mean(0).numpy(), atol=1e-5)
    assert len(f.trainable_parameters()) == 16 * train_layers  # 16 tensors a BERT layer


def test_finetuned_calibration_is_fitted_on_problems_it_never_trained_on():
    from judges.sprm.data import split_by_group

    sols = make_solutions(n_problems=6, per_problem=2)
    model = fit(sols, FinetunedFeaturizer(TINY), tiny_config(calibration_holdout=0.4))
    rest, held = split_by_group(list(sols), test_fraction=0.4, seed=0, salt="calibration:")
    assert rest and held
    assert model.card["n_solutions"] == len(rest)
    assert model.card["n_calibration_solutions"] == len(held)
    # the encoder and head trained on the rest alone: the same weights
    plain = fit(rest, FinetunedFeaturizer(TINY), tiny_config())
    wa, wb = _weights(model), _weights(plain)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert model.card["calibration"] != plain.card["calibration"]


def test_passes_in_forward_batches_of_any_size_score_the_same(featurizer, monkeypatch):
    import judges.sprm.finetune as finetune

    sols = make_solutions(n_problems=4, per_problem=3)
    together = featurizer.build(sols, batch_traces=12)
    monkeypatch.setattr(finetune, "PASS_BATCH", 1)  # one pass a forward call, no padding
    for a, b in zip(together, featurizer.build(sols, batch_traces=12), strict=True):
        np.testing.assert_allclose(a.x, b.x, atol=1e-5)


def test_bf16_is_close_to_fp32_and_a_bf16_model_scores_as_trained(tmp_path):
    sols = make_solutions(n_problems=3, per_problem=2)
    full = FinetunedFeaturizer(TINY).build(sols)
    half = FinetunedFeaturizer(BF16).build(sols)
    for a, b in zip(full, half, strict=True):
        # bfloat16 keeps 8 bits of mantissa: states agree to about 1% of their scale
        assert np.abs(a.x - b.x).max() < 0.05 * np.abs(a.x).max()
        assert not np.array_equal(a.x, b.x)  # bf16 really ran
    model = fit(sols, FinetunedFeaturizer(BF16), tiny_config(variant="orm"))
    assert model.card["featurizer"]["precision"] == "bf16"
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.featurizer.spec_.precision == "bf16"  # type: ignore[attr-defined]
    for a, b in zip(model.score(sols), loaded.score(sols), strict=True):
        np.testing.assert_allclose(a.step_scores, b.step_scores, atol=1e-6)
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        FinetuneSpec(precision="fp8")


def test_a_card_without_precision_loads_as_fp32(tmp_path):
    import json

    model = fit(make_solutions(2, 2), FinetunedFeaturizer(TINY), tiny_config(variant="orm"))
    save_model(model, tmp_path / "m")
    card_path = tmp_path / "m" / "card.json"
    card = json.loads(card_path.read_text())
    del card["featurizer"]["precision"]
    card_path.write_text(json.dumps(card))
    assert load_model(tmp_path / "m").featurizer.spec_.precision == "fp32"  # type: ignore[attr-defined]
