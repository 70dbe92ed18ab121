"""The report's prediction-powered estimate per domain, criterion and judge (analysis.report._ppi)."""

from __future__ import annotations

import pytest

from analysis.ppi import ppi_clustered_mean, ppi_mean
from analysis.report import ReportSettings, build_report
from tests.analysis.tidy_factory import make_tidy

SETTINGS = ReportSettings(n_resamples=50)


def _partly_human(seed: int = 0):
    table = make_tidy(seed=seed, n_items=40)
    unlabelled = {f"i{k}" for k in range(0, 40, 2)} | {f"s{k}" for k in range(0, 40, 2)}
    keep = ~(table["item"].isin(unlabelled) & (table["rater_kind"] == "human"))
    return table, table[keep].reset_index(drop=True), unlabelled


def _judge(report, level, criterion, judge):
    group = next(g for g in report.data["groups"] if g["level"] == level and g["criterion"] == criterion)
    return next(j for j in group["judges_vs_humans"] if j["judge"] == judge)


def test_rubric_ppi_is_the_mean_human_rating_estimate():
    _, table, _ = _partly_human()
    report = build_report(table, settings=SETTINGS)
    est = _judge(report, "rubric", "coherence", "critic")["ppi"]
    rub = table[(table.level == "rubric") & (table.criterion == "coherence")]
    human = rub[rub.rater_kind == "human"].groupby("unit")["value"].mean()
    judge = rub[rub.rater == "critic"].set_index("unit")["value"]
    lab = judge.index.isin(human.index)
    y = human.reindex(judge.index[lab]).to_numpy()
    expect = ppi_mean(y, judge[lab].to_numpy(), judge[~lab].to_numpy())
    assert est["quantity"] == "mean human rating"
    assert est["value"] == pytest.approx(expect.value, abs=1e-6)
    assert est["ci"] == pytest.approx(list(expect.ci), abs=1e-6)
    assert est["n_units"] == 20 and est["extra"]["n_unlabeled"] == 20
    assert est["extra"]["classical_ci"] == pytest.approx(expect.extra["classical_ci"], abs=1e-6)
    assert est["extra"]["n_effective"] == pytest.approx(expect.extra["n_effective"], abs=1e-4)
    # The truth (all humans' mean over every summary) is a plain number to compare with.
    assert est["ci"][0] < est["ci"][1]


def test_step_share_is_clustered_by_trace():
    _, table, _ = _partly_human()
    report = build_report(table, settings=SETTINGS)
    est = _judge(report, "step_label", "", "critic")["ppi"]
    steps = table[table.level == "step_label"]
    hum = (
        steps[steps.rater_kind == "human"]
        .groupby("unit")["value"]
        .apply(
            lambda v: -1.0 if (v == -1).sum() > (v == 1).sum() else 1.0  # 3 humans, +-1: never tied
        )
    )
    crit = steps[steps.rater == "critic"].set_index("unit")
    item = crit["item"]
    lab = crit.index.isin(hum.index)
    y = (hum.reindex(crit.index[lab]) == -1).astype(float).to_numpy()
    expect = ppi_clustered_mean(
        y,
        (crit["value"][lab] == -1).astype(float).to_numpy(),
        item[lab].to_numpy(),
        (crit["value"][~lab] == -1).astype(float).to_numpy(),
        item[~lab].to_numpy(),
    )
    assert est["statistic"] == "ppi_clustered_mean" and est["extra"]["clustered_by"] == "trace"
    assert est["value"] == pytest.approx(expect.value, abs=1e-6)
    assert est["ci"] == pytest.approx(list(expect.ci), abs=1e-6)
    assert est["n_units"] == 20  # traces, not steps


def test_first_error_and_continuous_scores_have_an_estimate():
    _, table, _ = _partly_human()
    report = build_report(table, settings=SETTINGS)
    fe = _judge(report, "first_error", "", "critic")["ppi"]
    assert fe["quantity"].startswith("share of traces with an error") and fe["value"] is not None
    sprm = _judge(report, "step_label", "", "sprm")["ppi"]
    assert sprm["value"] is not None and 0 <= sprm["value"] <= 1


def test_every_unit_human_labelled_gives_the_reason():
    full, _, _ = _partly_human()
    est = _judge(build_report(full, settings=SETTINGS), "rubric", "coherence", "critic")["ppi"]
    assert est["value"] is None
    assert est["reason"] == "no item without a human label: the human-only mean is the estimate"


def test_html_shows_the_estimate_and_the_effective_n():
    from analysis.report_html import render_html

    _, table, _ = _partly_human()
    report = build_report(table, settings=SETTINGS)
    page = render_html(report)
    est = _judge(report, "rubric", "coherence", "critic")["ppi"]
    assert "Prediction-powered estimate (PPI++) of the mean human rating" in page
    assert f"{est['value']:.3f} [{est['ci'][0]:.2f}, {est['ci'][1]:.2f}]" in page
    assert f"<td>{est['extra']['n_effective']:.0f}</td>" in page


def test_the_share_of_traces_with_an_error_takes_the_adjusted_binary_interval():
    _, table, _ = _partly_human()
    report = build_report(table, settings=SETTINGS)
    fe = _judge(report, "first_error", "", "critic")["ppi"]
    rows = table[table.level == "first_error"]
    human = rows[rows.rater_kind == "human"].groupby("unit")["value"].agg(lambda v: v.mode().iloc[0])
    judge = rows[rows.rater == "critic"].set_index("unit")["value"]
    lab = judge.index.isin(human.index)
    y = (human.reindex(judge.index[lab]) >= 0).astype(float).to_numpy()
    yhat, yu = (judge[lab] >= 0).astype(float).to_numpy(), (judge[~lab] >= 0).astype(float).to_numpy()
    adjusted, plain = ppi_mean(y, yhat, yu, binary="bonett-price-centred"), ppi_mean(y, yhat, yu)
    assert fe["value"] == pytest.approx(adjusted.value, abs=1e-6) == pytest.approx(plain.value, abs=1e-6)
    assert fe["ci"] == pytest.approx(list(adjusted.ci), abs=1e-6)
    assert "bonett-price-centred" in fe["ci_method"]
    assert fe["ci"] != pytest.approx(list(plain.ci), abs=1e-6)  # not the Wald interval
