"""The report builder, its HTML page and the streamed CSV export."""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from analysis.agreement import cohen_kappa, gwet_ac1, kendall, krippendorff_alpha
from analysis.export import csv_lines, write_csv
from analysis.report import ReportSettings, build_report
from analysis.report_html import render_html
from analysis.tidy import COLUMNS, pivot, validate_tidy
from tests.analysis.tidy_factory import make_tidy

FAST = ReportSettings(n_resamples=200)


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return make_tidy()


@pytest.fixture(scope="module")
def report(tidy):
    return build_report(tidy, title="demo <study>", settings=FAST)


def _group(report, level, criterion=""):
    return next(g for g in report.data["groups"] if g["level"] == level and g["criterion"] == criterion)


def test_json_is_strict_and_has_the_documented_keys(report):
    data = json.loads(json.dumps(report.data, allow_nan=False))
    assert data["schema_version"] == 2
    assert set(data) == {
        "schema_version",
        "title",
        "settings",
        "n_ratings",
        "domains",
        "groups",
        "verdicts",
        "alt_test_domains",
        "pairwise",
    }
    assert data["pairwise"] == []  # no pairs in this study
    assert data["domains"] == ["math", "summaries"]
    assert [(g["domain"], g["level"], g["criterion"]) for g in data["groups"]] == [
        ("math", "first_error", ""),
        ("math", "step_label", ""),
        ("summaries", "rubric", "coherence"),
        ("summaries", "rubric", "relevance"),
    ]
    # One verdict per (group, judge).
    assert len(data["verdicts"]) == 1 + 2 + 1 + 1
    for v in data["verdicts"]:
        assert set(v) >= {"domain", "judge", "agreement", "alt_test_passed", "summary"}


def test_human_human_figures_are_the_statistics_on_the_pivot(report, tidy):
    g = _group(report, "step_label")
    rows = tidy[(tidy.level == "step_label")]
    units = sorted(rows.unit.unique())
    h = pivot(rows, ["h0", "h1", "h2"], units)
    items = [u.split(":")[0] for u in units]
    alpha = krippendorff_alpha(h, "nominal", ci=0.95, n_resamples=200, clusters=items)
    assert g["human_human"]["alpha"]["value"] == pytest.approx(alpha.value, abs=1e-6)
    assert g["human_human"]["alpha"]["ci"] == pytest.approx(list(alpha.ci), abs=1e-6)
    ac1 = gwet_ac1(h, categories=[-1, 0, 1])
    assert g["human_human"]["gwet_ac1"]["value"] == pytest.approx(ac1.value, abs=1e-6)
    assert g["categories"] == [-1.0, 0.0, 1.0]
    assert g["humans"] == ["h0", "h1", "h2"] and g["judges"] == ["critic", "sprm"]


def test_judge_against_the_human_majority(report, tidy):
    g = _group(report, "step_label")
    critic = next(j for j in g["judges_vs_humans"] if j["judge"] == "critic")
    rows = tidy[(tidy.level == "step_label")]
    units = sorted(rows.unit.unique())
    h = pivot(rows, ["h0", "h1", "h2"], units)
    majority = np.where(np.nansum(h, axis=0) > 0, 1.0, -1.0)  # 3 binary votes: no ties
    judge = pivot(rows, ["critic"], units)[0]
    expected = cohen_kappa(judge, majority, labels=[-1, 0, 1])
    assert critic["statistics"]["cohen_kappa"]["value"] == pytest.approx(expected.value, abs=1e-6)
    assert critic["confusion"]["table"] == expected.extra["table"]
    assert critic["reference"] == "human majority" and not critic["continuous_scores"]
    assert critic["alt_test"]["winning_rate"] is not None


def test_continuous_step_scores_get_calibration_and_thresholded_labels(report):
    g = _group(report, "step_label")
    sprm = next(j for j in g["judges_vs_humans"] if j["judge"] == "sprm")
    assert sprm["continuous_scores"] is True
    assert "cohen_kappa_at_0.5" in sprm["statistics"]
    cal = sprm["calibration"]
    assert cal["n"] == 80 and sum(cal["count"]) == 80
    assert 0 <= cal["ece"] <= 1
    assert ("math", "step_label", "", "sprm") in report.points


def test_rubric_uses_correlations_and_icc_against_the_human_mean(report, tidy):
    g = _group(report, "rubric", "coherence")
    critic = g["judges_vs_humans"][0]
    assert critic["reference"] == "human mean"
    assert set(critic["statistics"]) == {"kendall", "spearman", "icc_A1", "icc_C1"}
    rows = tidy[(tidy.criterion == "coherence")]
    units = sorted(rows.unit.unique())
    mean = np.nanmean(pivot(rows, ["h0", "h1", "h2"], units), axis=0)
    judge = pivot(rows, ["critic"], units)[0]
    assert critic["statistics"]["kendall"]["value"] == pytest.approx(kendall(judge, mean).value, abs=1e-6)
    assert g["alpha_level"] == "ordinal"


def test_not_enough_data_is_said_not_faked(tidy):
    two = tidy[~tidy.rater.isin(["h2"])]
    rep = build_report(two, settings=FAST)
    for v in rep.data["verdicts"]:
        assert v["alt_test_passed"] is None
        assert "needs at least 3 human annotators, has 2" in v["reason"]
    judges_only = tidy[tidy.rater_kind == "judge"]
    rep = build_report(judges_only, settings=FAST)
    for g in rep.data["groups"]:
        assert g["human_human"] is None and g["human_human_reason"]
    for v in rep.data["verdicts"]:
        assert v["summary"].startswith("not enough data")
        assert v["agreement"] is None


def test_validate_tidy_rejects_bad_tables(tidy):
    with pytest.raises(ValueError, match=r"^missing columns: value$"):
        validate_tidy(tidy.drop(columns=["value"]))
    bad = tidy.copy()
    bad.loc[0, "level"] = "essay"
    with pytest.raises(ValueError, match=r"^unknown level\(s\): essay$"):
        validate_tidy(bad)
    bad = tidy.copy()
    bad.loc[0, "rater"] = "critic"
    with pytest.raises(ValueError, match=r"^a rater is both a judge and a person: critic$"):
        validate_tidy(bad)


def test_html_is_self_contained_and_escaped(report):
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page  # nothing to run, nothing fetched
    assert "demo &lt;study&gt;" in page and "<study>" not in page
    assert page.index("id='overview'") < page.index("<details class='domain'>")  # the answer first
    assert page.count("<svg ") >= 4 and "calibration (ECE" in page  # figures drawn inline
    assert page.count("judge \\ majority") == 3  # confusion tables: first error + 2 step judges


def test_csv_lines_stream_lazily():
    def endless():
        for i in itertools.count():
            yield {"unit": f"u{i}", "value": i / 2, "rater": None}

    lines = list(itertools.islice(csv_lines(endless(), ["unit", "rater", "value"]), 3))
    assert lines == ["unit,rater,value\n", "u0,,0.0\n", "u1,,0.5\n"]


def test_write_csv_round_trips(tidy):
    out = io.StringIO()
    n = write_csv((r._asdict() for r in tidy.itertuples(index=False)), list(COLUMNS), out)
    assert n == len(tidy)
    back = pd.read_csv(io.StringIO(out.getvalue()), keep_default_na=False)
    assert list(back.columns) == list(COLUMNS)
    assert back["value"].tolist() == pytest.approx(tidy["value"].tolist())
