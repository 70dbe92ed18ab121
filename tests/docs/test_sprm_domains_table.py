"""docs/results/sprm_domains_table.py --compare-centres: the rule that picks the SPR filter's
default centre (docs/results/sprm_domains.md), on made-up reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from analysis.shared_data import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location(
    "sprm_domains_table", PROJECT_ROOT / "docs" / "results" / "sprm_domains_table.py"
)
assert _spec and _spec.loader
table = importlib.util.module_from_spec(_spec)
sys.modules["sprm_domains_table"] = table
_spec.loader.exec_module(table)

ROWS = [(d, s) for d in table.DOMAINS for s in ("in", "out")]


def _write(folder: Path, aurocs: list[float]) -> None:
    folder.mkdir()
    for (domain, setting), v in zip(ROWS, aurocs, strict=True):
        report = {"model": {"step_auroc": {"value": v, "ci_low": v - 0.05, "ci_high": v + 0.05}}}
        (folder / f"{domain}-{setting}-sprm.json").write_text(json.dumps(report))


@pytest.mark.parametrize(
    ("zero_gain", "decision"),
    [
        ([0.02] * 6 + [-0.001] * 4, "zero becomes the default"),  # 6 higher, mean +0.0116
        ([0.02] * 5 + [-0.001] * 5, "balanced stays the default"),  # only 5 higher
        ([0.011] * 6 + [-0.001] * 4, "balanced stays the default"),  # 6 higher, mean +0.0062
        ([-0.05] * 10, "balanced stays the default"),
    ],
)
def test_the_rule(tmp_path, capsys, zero_gain, decision):
    base = [0.5 + 0.01 * i for i in range(10)]
    _write(tmp_path / "b", base)
    _write(tmp_path / "z", [b + g for b, g in zip(base, zero_gain, strict=True)])
    table.compare_centres(tmp_path / "b", tmp_path / "z")
    out = capsys.readouterr().out
    assert f"decision: {decision}" in out
    assert out.count("| in-domain |") == 5 and out.count("| domain left out |") == 5


def test_no_decision_with_a_row_missing(tmp_path, capsys):
    _write(tmp_path / "b", [0.5] * 10)
    _write(tmp_path / "z", [0.7] * 10)
    (tmp_path / "z" / "code-out-sprm.json").unlink()
    table.compare_centres(tmp_path / "b", tmp_path / "z")
    out = capsys.readouterr().out
    assert "rows compared: 9 of 10" in out and "decision: none" in out


def _m(v: float) -> dict:
    return {"value": v, "ci_low": v - 0.05, "ci_high": v + 0.05}


def test_rows_print_the_fitted_threshold_f1_for_trained_variants_only(capsys):
    block = {"step_auroc": _m(0.6), "processbench": {"f1": _m(0.0)}, "calibration": {"ece": _m(0.1)}}
    report = {
        "n_labelled_traces": 35,
        "model": block,
        "model_at_outcome_threshold": {"processbench": {"f1": _m(0.31)}},
        "baselines": {"position_prior": block},
    }
    table.rows("code", "in-domain", {"sprm": report, "orm": {**report, "model_at_outcome_threshold": None}})
    lines = capsys.readouterr().out.splitlines()
    by_scorer = {line.split(" | ")[2]: line.split(" | ") for line in lines}
    assert by_scorer["sprm"][6] == "0.31 [0.26, 0.36]" and by_scorer["sprm"][5] == "0.00 [-0.05, 0.05]"
    assert by_scorer["orm"][6] == "-" and by_scorer["position_prior"][6] == "-"
    assert all(line.count("|") == 9 for line in lines)  # 8 columns, as the header


@pytest.mark.parametrize("variant", ["sprm", "orm", "last_step"])
@pytest.mark.parametrize("centre", ["zero", "balanced"])
def test_leave_domain_out_training_takes_train_sprm_defaults(variant, centre):
    """The frozen leave-domain-out rows were trained with this explicit configuration before
    the driver read train_sprm's parser; the fine-tuned ones take the command's finetune
    defaults (2 epochs, a 0.2 calibration hold-out, bf16)."""
    from judges.sprm.finetune import FinetuneSpec
    from judges.sprm.train import TrainConfig

    frozen = TrainConfig(
        variant=variant, epochs=10, warmup_epochs=1, lr=1e-3, batch_size=256, seed=0, filter_centre=centre
    )
    assert table.out_settings(variant, centre, "frozen") == (frozen, None)
    config, spec = table.out_settings(variant, centre, "finetune")
    assert (config.encoder, config.epochs, config.calibration_holdout) == ("finetune", 2, 0.2)
    assert (config.variant, config.filter_centre, config.seed) == (variant, centre, 0)
    assert spec == FinetuneSpec(precision="bf16")


@pytest.mark.parametrize(
    "rest",
    [["--encoder", "bogus"], ["--filter-centre"], ["--threads", "2"], ["--encoder", "finetune", "extra"]],
)
def test_train_out_refuses_an_unknown_option(rest, monkeypatch, tmp_path):
    called = []
    monkeypatch.setattr(table, "train_out", lambda *a, **k: called.append((a, k)))
    monkeypatch.setattr(sys, "argv", ["x", "--train-out", "code", "sprm", str(tmp_path), *rest])
    with pytest.raises(SystemExit) as exc:
        table.main()
    assert exc.value.code == table.__doc__ and called == []


def test_train_out_passes_the_chosen_encoder_and_centre(monkeypatch, tmp_path):
    called = []
    monkeypatch.setattr(table, "train_out", lambda *a, **k: called.append((a, k)))
    argv = [
        "x",
        "--train-out",
        "code",
        "orm",
        str(tmp_path),
        "--encoder",
        "finetune",
        "--filter-centre",
        "zero",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    table.main()
    assert called == [(("code", "orm", str(tmp_path)), {"filter_centre": "zero", "encoder": "finetune"})]
