"""`analysis.live`: what "decided" means, on hand-made verdicts and on real reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.live import live_summary, verdict_decision
from analysis.report import ReportSettings, build_report
from tests.analysis.test_report_verdicts import SCALE, _ratings


def _verdict(**kw):
    base = {
        "reliable_reference": True,
        "agreement": "as good as people",
        "alt_test_passed": True,
        "winning_rate": 0.67,
        "summary": "s",
        "reason": None,
    }
    return {**base, **kw}


def test_a_reliable_reference_and_a_passed_test_decide_replace():
    decision, why = verdict_decision(_verdict(), epsilon=0.15)
    assert decision == "replace"
    assert why == "passes the alternative-annotator test at epsilon 0.15 (winning rate 0.67 >= 0.5)"


def test_a_gap_below_zero_decides_keep_people_even_if_the_test_passes():
    decision, why = verdict_decision(_verdict(agreement="worse than people"), epsilon=0.1)
    assert decision == "keep people" and "CI of the gap below 0" in why


@pytest.mark.parametrize(
    ("fields", "why_starts"),
    [
        (
            {"reliable_reference": False, "agreement": None, "alt_test_passed": None, "human_alpha": 0.312},
            "no verdict while people disagree: the human reference is below the reliability gate "
            "(human-human alpha 0.31)",
        ),
        (
            {"alt_test_passed": False, "winning_rate": 0.33},
            "as good as people, but the alternative-annotator",
        ),
        (
            {"agreement": None, "alt_test_passed": None, "summary": "not enough data: 1 human"},
            "not enough data",
        ),
        (
            {"alt_test_passed": None, "reason": "2 annotators"},
            "as good as people; the alternative-annotator test",
        ),
    ],
)
def test_everything_else_is_undecided_with_the_reason(fields, why_starts):
    decision, why = verdict_decision(_verdict(**fields), epsilon=0.1)
    assert decision is None and why.startswith(why_starts)
    if "winning_rate" in fields:
        assert "(winning rate 0.33 < 0.5): not conclusive yet" in why


def test_the_gate_comes_before_a_passed_test():
    """A test that passed against an unreliable reference decides nothing."""
    decision, _ = verdict_decision(_verdict(reliable_reference=False), epsilon=0.1)
    assert decision is None


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="a verdict needs 'alt_test_passed'"):
        verdict_decision({"reliable_reference": True, "agreement": None, "summary": ""}, epsilon=0.1)
    with pytest.raises(ValueError, match="not a concordance report: no 'verdicts'"):
        live_summary({"settings": {}, "domains": [], "groups": []})


def _half_unlabelled(frame: pd.DataFrame, share: float, seed: int = 1) -> pd.DataFrame:
    """Human ratings removed from `share` of the units: the judge alone rated those."""
    units = frame["unit"].unique()
    drop = set(np.random.default_rng(seed).choice(units, int(len(units) * share), replace=False))
    return frame[~(frame["unit"].isin(drop) & (frame["rater_kind"] != "judge"))]


def test_a_real_report_good_judge_reliable_domain_is_decided_unreliable_one_is_not():
    reliable = _ratings(1, 150, noise=0.05, domains=("news",), judge_noise=0.05)
    unreliable = _ratings(2, 150, noise=0.8, domains=("stories",))
    table = _half_unlabelled(pd.concat([reliable, unreliable]), 0.3)
    report = build_report(table, settings=ReportSettings(n_resamples=200, scales=SCALE, epsilon=0.15))
    live = live_summary(report.data)
    assert live["settings"] == {"epsilon": 0.15, "min_human_alpha": 0.667, "ci": 0.95, "n_resamples": 200}
    news, stories = sorted(live["domains"], key=lambda d: d["domain"])
    assert (news["domain"], stories["domain"]) == ("news", "stories")

    assert news["decided"] is True and news["why"].startswith("every verdict is decided (1 judge verdict")
    (group,) = news["groups"]
    (judge,) = group["judges"]
    assert group["reliable"] and group["decided"] and judge["decision"] == "replace"
    estimate = judge["estimate"]
    assert estimate["quantity"] == "mean human rating"
    # the PPI estimate sits inside its interval, which is no wider than the people-only one
    low, high = estimate["ci"]
    h_low, h_high = estimate["human_only_ci"]
    assert low <= estimate["value"] <= high and high - low <= h_high - h_low + 1e-12
    assert estimate["n_labelled"] + estimate["n_unlabelled"] == 150 and estimate["n_unlabelled"] > 30
    assert estimate["n_effective"] > estimate["n_labelled"]

    assert stories["decided"] is False
    assert stories["why"].startswith("rubric/quality, llm: no verdict while people disagree:")
    assert stories["groups"][0]["reliable"] is False and stories["groups"][0]["judges"][0]["decision"] is None


def test_a_domain_without_a_judge_is_not_decided():
    people_only = _ratings(3, 40, noise=0.05, domains=("a",))
    people_only = people_only[people_only["rater_kind"] != "judge"]
    report = build_report(people_only, settings=ReportSettings(n_resamples=50, scales=SCALE))
    (domain,) = live_summary(report.data)["domains"]
    assert domain["decided"] is False and domain["why"] == "no judge has rated this domain's items yet"
    assert domain["groups"][0]["judges"] == [] and domain["groups"][0]["decided"] is False
