"""train_sprm and evaluate_sprm on small slices of every step-labelled format beyond BIG-Bench
Mistake (ProcessBench, MR-Ben, ROSCOE, SummEdits), read from ../shared/data."""

from __future__ import annotations

import dataclasses
import json
from io import StringIO
from pathlib import Path

import pytest
import torch
from django.core.management import call_command

from judges.sprm.io import new_featurizer
from judges.sprm.train import TrainConfig, fit
from studyapp.importers.solutions import read_solutions


def processbench_slice(shared: Path, out: Path) -> Path:
    records = json.loads((shared / "processbench" / "gsm8k.json").read_text())
    # 8 traces with an error and 8 without: ProcessBench F1 needs both
    picked = [r for r in records if r["label"] >= 0][:8] + [r for r in records if r["label"] == -1][:8]
    path = out / "gsm8k.json"
    path.write_text(json.dumps(picked, indent=2))
    return path


def mr_ben_slice(shared: Path, out: Path, subject: str = "biology", n: int = 5) -> Path:
    data = json.loads((shared / "mr_ben" / f"{subject}.json").read_text())
    path = out / f"{subject}.json"
    path.write_text(json.dumps(dict(list(data.items())[:n]), indent=1))
    return path


def roscoe_slice(shared: Path, out: Path, n: int = 30) -> Path:
    src = json.loads((shared / "roscoe" / "roscoe-drop-stepwise.json").read_text())
    path = out / "roscoe-drop-stepwise.json"
    path.write_text(json.dumps({**src, "instances": src["instances"][:n]}, indent=1))
    # the whole-chain ratings beside it, as published (chains are matched by their text)
    (out / "roscoe-drop-overall.json").write_text(
        (shared / "roscoe" / "roscoe-drop-overall.json").read_text()
    )
    return path


def summedits_slice(shared: Path, out: Path, n: int = 16) -> Path:
    path = out / "summedits_news.json"
    path.write_text(json.dumps(json.loads((shared / "summedits" / "summedits_news.json").read_text())[:n]))
    return path


SLICES = {
    "processbench": processbench_slice,
    "mr_ben": mr_ben_slice,
    "roscoe": roscoe_slice,
    "summedits": summedits_slice,
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("fmt", sorted(SLICES))
def test_train_and_evaluate_every_new_format(tmp_path, shared_data, cache_dir, fmt: str) -> None:
    data = SLICES[fmt](shared_data, tmp_path)
    out = StringIO()
    call_command(
        "train_sprm", "--data", str(data), "--format", fmt, "--out", str(tmp_path / "m"),
        "--cache-dir", str(cache_dir), "--epochs", "2", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert "saved" in out.getvalue()
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["variant"] == "sprm" and card["n_solutions"] > 0
    report_out = StringIO()
    call_command(
        "evaluate_sprm", "--model", str(tmp_path / "m"), "--data", str(data), "--format", fmt,
        "--cache-dir", str(cache_dir), "--n-boot", "20", "--json", stdout=report_out,
    )  # fmt: skip
    report = json.loads(report_out.getvalue())
    assert report["n_solutions"] == card["n_solutions"]
    assert report["n_labelled_traces"] > 0
    # today's keys, for the model and every step baseline
    for block in [report["model"], *report["baselines"].values()]:
        assert 0.0 <= block["step_auroc"]["value"] <= 1.0
        assert {"acc1", "acc2", "f1"} <= set(block["processbench"])
        assert "value" in block["processbench"]["f1"]
    assert {"position_prior", "random"} <= set(report["baselines"])


def test_mr_ben_coding_trains_on_code_lines(tmp_path, shared_data, cache_dir) -> None:
    data = mr_ben_slice(shared_data, tmp_path, "coding", 4)
    call_command(
        "train_sprm", "--data", str(data), "--format", "mr_ben", "--out", str(tmp_path / "m"),
        "--cache-dir", str(cache_dir), "--epochs", "1", "--variant", "orm",
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["variant"] == "orm" and card["n_solutions"] == 12


@pytest.mark.parametrize("variant", ["sprm", "orm", "last_step"])
@pytest.mark.parametrize("fmt", sorted(SLICES))
def test_no_step_label_is_read_in_training(tmp_path, shared_data, cache_dir, fmt: str, variant: str) -> None:
    # The importers attach the people's step labels; inverting them changes no weight.
    solutions = read_solutions([SLICES[fmt](shared_data, tmp_path)], fmt)
    assert any(s.step_labels for s in solutions)
    flipped = [
        dataclasses.replace(s, step_labels=[None if v is None else -v for v in s.step_labels])
        if s.step_labels
        else s
        for s in solutions
    ]
    featurizer = new_featurizer(cache_dir=cache_dir)
    a = fit(solutions, featurizer, TrainConfig(variant=variant, epochs=2)).head.state_dict()
    b = fit(flipped, featurizer, TrainConfig(variant=variant, epochs=2)).head.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
