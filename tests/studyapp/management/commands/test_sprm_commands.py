"""train_sprm and evaluate_sprm on slices of the real data (a few dozen solutions, 2 epochs)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from judges.sprm.encoder import load_sentence_encoder


def head_lines(src: Path, dst: Path, n: int) -> Path:
    with src.open() as f:
        dst.write_text("".join(next(f) for _ in range(n)))
    return dst


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory, shared_data):
    # 10 problems x 4 model solutions
    out = tmp_path_factory.mktemp("gsm8k") / "solutions.jsonl"
    return head_lines(shared_data / "gsm8k" / "example_model_solutions.jsonl", out, 10)


@pytest.fixture(scope="module")
def bbm(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("bbm") / "multistep_arithmetic.jsonl"
    return head_lines(shared_data / "bigbench_mistake" / "multistep_arithmetic.jsonl", out, 16)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def train(data, out, cache_dir, fmt="gsm8k_solutions", **extra):
    stdout = StringIO()
    call_command(
        "train_sprm",
        "--data", str(data), "--format", fmt, "--out", str(out),
        "--cache-dir", str(cache_dir), "--epochs", "2", stdout=stdout, stderr=StringIO(),
        **extra,
    )  # fmt: skip
    return stdout.getvalue()


def test_train_writes_weights_and_card_and_is_deterministic(tmp_path, gsm8k, cache_dir):
    out = train(gsm8k, tmp_path / "a", cache_dir, split="train", seed=3)
    card = json.loads((tmp_path / "a" / "card.json").read_text())
    assert card["variant"] == "sprm"
    assert card["n_solutions"] == 36  # 9 of 10 problems (seeded hash split, 20% test) x 4
    assert [h["phase"] for h in card["training"]["history"]] == ["warmup", "sprm"]
    assert "kept positives" in out and "saved" in out
    train(gsm8k, tmp_path / "b", cache_dir, split="train", seed=3)
    weights = [(tmp_path / d / "weights.safetensors").read_bytes() for d in ("a", "b")]
    assert weights[0] == weights[1]


def test_retraining_encodes_nothing(tmp_path, gsm8k, cache_dir, monkeypatch):
    train(gsm8k, tmp_path / "warm", cache_dir)
    encoder = load_sentence_encoder()
    calls = []
    monkeypatch.setattr(encoder, "encode", lambda texts: calls.append(texts))
    train(gsm8k, tmp_path / "orm", cache_dir, variant="orm")
    assert calls == []
    card = json.loads((tmp_path / "orm" / "card.json").read_text())
    assert card["variant"] == "orm"


def test_evaluate_reports_best_of_n_with_baselines(tmp_path, gsm8k, cache_dir):
    train(gsm8k, tmp_path / "m", cache_dir, split="train")
    stdout = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "m"), "--data", str(gsm8k),
        "--format", "gsm8k_solutions", "--split", "test", "--cache-dir", str(cache_dir),
        "--n-boot", "50", "--json", stdout=stdout,
    )  # fmt: skip
    report = json.loads(stdout.getvalue())
    assert report["n_solutions"] == 4  # the held-out problem
    assert "step_auroc" not in report["model"]  # GSM8K has outcome labels only
    bon = report["model"]["best_of_n"]
    assert bon["n_units"] == 1 and bon["ci_low"] <= bon["value"] <= bon["ci_high"]
    assert set(report["best_of_n_baselines"]) == {"random_choice", "oracle", "majority_vote"}


def test_evaluate_scores_human_step_labels_beside_baselines(tmp_path, bbm, cache_dir):
    train(bbm, tmp_path / "m", cache_dir, fmt="bigbench_mistake", variant="last_step")
    stdout = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "m"), "--data", str(bbm),
        "--format", "bigbench_mistake", "--cache-dir", str(cache_dir), "--n-boot", "50",
        "--json", stdout=stdout,
    )  # fmt: skip
    report = json.loads(stdout.getvalue())
    assert report["n_labelled_traces"] == 16
    assert report["variant"] == "last_step"
    for block in [report["model"], *report["baselines"].values()]:
        assert 0.0 <= block["step_auroc"]["value"] <= 1.0
        assert {"acc1", "acc2", "f1"} <= set(block["processbench"])
    text = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "m"), "--data", str(bbm),
        "--format", "bigbench_mistake", "--cache-dir", str(cache_dir), "--n-boot", "20",
        stdout=text,
    )  # fmt: skip
    assert "position_prior" in text.getvalue() and "AUROC" in text.getvalue()


def test_bad_input_is_a_command_error(tmp_path, cache_dir):
    with pytest.raises(CommandError, match="no such file"):
        train(tmp_path / "missing.jsonl", tmp_path / "m", cache_dir)


TINY_FINETUNE = {
    "encoder": "finetune", "max_length": 64, "max_problem_tokens": 24, "max_step_tokens": 16,
    "trace_batch": 8, "threads": 1,
}  # fmt: skip


def test_finetune_trains_checkpoints_and_evaluates_with_weighted_vote(
    tmp_path, gsm8k, bbm, cache_dir, capsys
):
    # 8 training problems: the default hold-out (0.2) would keep none of them out
    capsys.readouterr()
    out = train(
        gsm8k,
        tmp_path / "ft",
        cache_dir,
        split="train",
        variant="orm",
        calibration_holdout=0.5,
        **TINY_FINETUNE,
    )
    card = json.loads((tmp_path / "ft" / "card.json").read_text())
    assert card["n_calibration_solutions"] > 0 and card["hyperparameters"]["calibration_holdout"] == 0.5
    assert card["featurizer"]["kind"] == "finetune" and card["hyperparameters"]["encoder"] == "finetune"
    assert card["featurizer"]["max_length"] == 64 and card["featurizer"]["train_layers"] == 2
    assert card["featurizer"]["precision"] == "bf16"  # the command's default
    assert card["calibration"]["a"] > 0 and "saved" in out
    assert sorted(p.name for p in (tmp_path / "ft" / "checkpoints").iterdir()) == ["epoch-0", "epoch-1"]
    # the bar counts the traces trained on, 2 epochs of them, not the calibration's
    n_trained = card["n_solutions"]
    assert f"{2 * n_trained}/{2 * n_trained}" in capsys.readouterr().err
    stdout = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "ft"), "--data", str(gsm8k),
        "--format", "gsm8k_solutions", "--split", "test", "--n-boot", "50", "--json", stdout=stdout,
    )  # fmt: skip
    report = json.loads(stdout.getvalue())
    assert report["encoder"] == "finetune"
    wv = report["model"]["weighted_vote"]
    assert wv["n_units"] == 1 and 0.0 <= wv["value"] <= 1.0
    train(bbm, tmp_path / "ftb", cache_dir, fmt="bigbench_mistake", variant="sprm", **TINY_FINETUNE)
    stdout = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "ftb"), "--data", str(bbm),
        "--format", "bigbench_mistake", "--n-boot", "50", "--json", stdout=stdout,
    )  # fmt: skip
    report = json.loads(stdout.getvalue())
    assert 0.0 <= report["model"]["step_auroc"]["value"] <= 1.0
    assert {"acc1", "acc2", "f1"} <= set(report["model_first_error_map"]["processbench"])


def test_an_fp32_finetune_is_recorded_and_a_bad_precision_is_a_command_error(tmp_path, gsm8k, cache_dir):
    train(gsm8k, tmp_path / "m", cache_dir, precision="fp32", calibration_holdout=0.5, **TINY_FINETUNE)
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["featurizer"]["precision"] == "fp32"
    with pytest.raises(CommandError, match="invalid choice: 'fp8'"):
        call_command(
            "train_sprm", "--data", str(gsm8k), "--format", "gsm8k_solutions",
            "--out", str(tmp_path / "bad"), "--encoder", "finetune", "--precision", "fp8",
        )  # fmt: skip


def test_a_finetune_length_too_short_is_a_command_error(tmp_path, gsm8k, cache_dir):
    with pytest.raises(CommandError, match="max_length 30 is below"):
        train(gsm8k, tmp_path / "m", cache_dir, **(TINY_FINETUNE | {"max_length": 30}))


def test_a_calibration_holdout_is_recorded_and_a_bad_one_is_a_command_error(tmp_path, gsm8k, cache_dir):
    train(gsm8k, tmp_path / "m", cache_dir, calibration_holdout=0.3)
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["hyperparameters"]["calibration_holdout"] == 0.3
    assert (
        0 < card["n_calibration_solutions"] < 40
        and card["n_solutions"] == 40 - card["n_calibration_solutions"]
    )
    with pytest.raises(CommandError, match="calibration_holdout must be in"):
        train(gsm8k, tmp_path / "bad", cache_dir, calibration_holdout=1.5)
    assert not (tmp_path / "bad").exists()
