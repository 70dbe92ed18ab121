"""Issue 9's check on the real HANNA file: no replacement verdict on an unreliable reference."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.report import ReportSettings, build_report
from analysis.tidy import COLUMNS
from studyapp.importers import read_items
from studyapp.importers.hanna import unstable_raters


def test_hanna_with_individual_humans_gets_no_verdict_on_any_criterion(shared_data: Path) -> None:
    items = read_items(
        shared_data / "hanna" / "hanna_metric_scores_llm.csv", "hanna", individual_humans=True
    ).items
    rows = [
        (
            i.external_id,
            i.external_id,
            lb.rater,
            "judge" if lb.rater_kind == "judge" else "external",
            "stories",
            "rubric",
            crit,
            v,
        )
        for i in items
        for lb in i.labels
        for crit, v in lb.ratings.items()
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    assert len(table) == 145_728
    scales = {f"rubric/{c}": [1, 2, 3, 4, 5] for c in table["criterion"].unique()}
    settings = ReportSettings(
        n_resamples=100,
        scales=scales,
        unstable_raters=frozenset(unstable_raters({"individual_humans": True})),
    )
    data = build_report(table, settings=settings).data
    assert len(data["groups"]) == 6
    for g in data["groups"]:
        gate = g["human_reliability"]
        assert gate["alpha"]["value"] < 0.667 and gate["reliable"] is False
    assert len(data["verdicts"]) == 120
    assert all(v["agreement"] is None and v["alt_test_passed"] is None for v in data["verdicts"])
    n_out = sum(jd["out_of_scale"]["count"] for g in data["groups"] for jd in g["judges_vs_humans"])
    assert n_out == 1051  # the importer's warning counts the same scores
