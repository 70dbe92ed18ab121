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
    assert live["settings"] == {
        "epsilon": 0.15,
        "min_human_alpha": 0.667,
        "ci": 0.95,
        "n_resamples": 200,
        "target_width": None,
    }
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


# The width rule: each estimate's interval width against the spec's target_width, a status
# of its own beside the verdicts', and the budget that moves only when both are decided.


def _group(domain: str, judges: dict[str, list[float] | None], *, reliable: bool = True) -> dict:
    """A report group whose judges have PPI intervals `judges[name]` (None: no interval)."""

    def ppi(ci):
        if ci is None:
            return {
                "quantity": "mean human rating",
                "value": None,
                "ci": None,
                "n_units": 3,
                "reason": "too few",
            }
        return {"quantity": "mean human rating", "value": sum(ci) / 2, "ci": ci, "n_units": 40, "extra": {}}

    return {
        "domain": domain,
        "level": "rubric",
        "criterion": "quality",
        "n_units": 60,
        "n_items": 60,
        "humans": ["h0", "h1", "h2"],
        "human_reliability": {"alpha": {"value": 0.8, "ci": [0.7, 0.9], "n_units": 40}, "reliable": reliable},
        "judges_vs_humans": [{"judge": name, "ppi": ppi(ci)} for name, ci in judges.items()],
    }


def _report(groups: list[dict], verdicts: dict[tuple[str, str], dict]) -> dict:
    """A report's JSON with these groups and each (domain, judge)'s verdict."""
    return {
        "settings": {"epsilon": 0.1, "min_human_alpha": 0.667, "ci": 0.95, "n_resamples": 10},
        "domains": sorted({g["domain"] for g in groups}),
        "groups": groups,
        "verdicts": [
            {"domain": d, "level": "rubric", "criterion": "quality", "judge": j, **v}
            for (d, j), v in verdicts.items()
        ],
    }


OPEN = _verdict(alt_test_passed=False, winning_rate=0.4)


def _domains(report: dict, target_width: float | None) -> dict[str, dict]:
    return {d["domain"]: d for d in live_summary(report, target_width=target_width)["domains"]}


def test_without_a_target_width_the_widths_are_shown_and_nothing_else_changes():
    report = _report([_group("a", {"llm": [2.5, 2.75]})], {("a", "llm"): _verdict()})
    summary = live_summary(report)
    assert summary["settings"]["target_width"] is None
    (domain,) = summary["domains"]
    (group,) = domain["groups"]
    estimate = group["judges"][0]["estimate"]
    assert estimate["width"] == 0.25 and estimate["width_reached"] is None
    assert group["estimates_decided"] is None and domain["estimates_decided"] is None
    assert domain["estimates_why"] == "no target width (the spec's analysis.target_width is not set)"
    assert domain["decided"] is True and domain["budget_can_move"] is True
    assert domain["budget_why"].startswith("the verdicts are decided:")
    # the verdict fields are those of a summary at any target width
    wide = live_summary(report, target_width=0.1)["domains"][0]
    assert (wide["decided"], wide["why"]) == (domain["decided"], domain["why"])
    assert wide["groups"][0]["judges"][0]["decision"] == group["judges"][0]["decision"] == "replace"


def test_a_precise_estimate_is_decided_while_its_verdict_is_open_and_vice_versa():
    report = _report(
        [_group("precise", {"llm": [3.0, 3.08]}), _group("wide", {"llm": [2.0, 2.3]})],
        {("precise", "llm"): OPEN, ("wide", "llm"): _verdict()},
    )
    domains = _domains(report, 0.1)
    precise, wide = domains["precise"], domains["wide"]

    assert precise["decided"] is False and precise["estimates_decided"] is True
    assert precise["estimates_why"] == (
        "every estimate is precise enough: widest interval 0.08 <= target 0.1 (1 estimate(s) in 1 group(s))"
    )
    assert precise["groups"][0]["estimates_decided"] is True
    assert precise["groups"][0]["judges"][0]["estimate"]["width_reached"] is True
    assert precise["budget_can_move"] is False
    assert (
        precise["budget_why"]
        == "the estimates reached the target width, but the verdicts are not decided yet"
    )

    assert wide["decided"] is True and wide["estimates_decided"] is False
    assert wide["estimates_why"] == "rubric/quality, llm: width 0.3 > target 0.1"
    assert wide["groups"][0]["judges"][0]["estimate"]["width_reached"] is False
    assert wide["budget_can_move"] is False
    assert (
        wide["budget_why"]
        == "the verdicts are decided, but the estimates have not reached the target width yet"
    )

    # a wider target: both decided, the budget moves
    both = _domains(report, 0.3)["wide"]
    assert both["estimates_decided"] is True and both["budget_can_move"] is True
    assert both["budget_why"].startswith(
        "the verdicts are decided and the estimates reached the target width"
    )


def test_a_width_equal_to_the_target_reaches_it():
    report = _report([_group("a", {"llm": [0.25, 0.75]})], {("a", "llm"): OPEN})
    assert _domains(report, 0.5)["a"]["estimates_decided"] is True
    assert _domains(report, 0.4999)["a"]["estimates_decided"] is False


def test_every_estimate_of_the_domain_must_reach_the_width():
    report = _report(
        [
            _group("a", {"llm": [1.0, 1.05], "sprm": [1.0, 1.2]}),
            {**_group("a", {"llm": [1.0, 1.05]}), "criterion": "fluency"},
        ],
        {("a", "llm"): OPEN, ("a", "sprm"): OPEN},
    )
    domain = _domains(report, 0.1)["a"]
    quality, fluency = domain["groups"]
    assert [j["estimate"]["width_reached"] for j in quality["judges"]] == [True, False]
    assert quality["estimates_decided"] is False and fluency["estimates_decided"] is True
    assert domain["estimates_decided"] is False
    assert domain["estimates_why"] == "rubric/quality, sprm: width 0.2 > target 0.1"
    assert (
        domain["budget_why"] == "neither the verdicts nor the estimates at the target width are decided yet"
    )


def test_an_estimate_without_an_interval_has_not_reached_the_width():
    report = _report([_group("a", {"llm": None})], {("a", "llm"): OPEN})
    domain = _domains(report, 1.0)["a"]
    estimate = domain["groups"][0]["judges"][0]["estimate"]
    assert estimate["width"] is None and estimate["width_reached"] is False
    assert domain["estimates_decided"] is False
    assert domain["estimates_why"] == "rubric/quality, llm: no interval yet (too few)"


def test_a_domain_without_a_judge_has_no_decided_estimates():
    report = _report([_group("a", {})], {})
    domain = _domains(report, 1.0)["a"]
    assert domain["groups"][0]["estimates_decided"] is False
    assert (domain["estimates_decided"], domain["budget_can_move"]) == (False, False)
    assert domain["estimates_why"] == "no judge has rated this domain's items yet"


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), "0.1"])
def test_a_bad_target_width_is_refused(bad):
    report = _report([_group("a", {"llm": [0.0, 0.1]})], {("a", "llm"): OPEN})
    with pytest.raises(ValueError, match=r"target_width must be a positive number \(got "):
        live_summary(report, target_width=bad)


def test_a_real_report_reaches_a_target_at_its_own_width_and_not_below():
    table = _half_unlabelled(_ratings(4, 120, noise=0.05, domains=("news",), judge_noise=0.05), 0.3)
    report = build_report(table, settings=ReportSettings(n_resamples=100, scales=SCALE, epsilon=0.15))
    (domain,) = live_summary(report.data)["domains"]
    estimate = domain["groups"][0]["judges"][0]["estimate"]
    low, high = estimate["ci"]
    assert estimate["width"] == high - low > 0
    at = live_summary(report.data, target_width=estimate["width"])["domains"][0]
    below = live_summary(report.data, target_width=estimate["width"] * 0.99)["domains"][0]
    assert at["estimates_decided"] is True and below["estimates_decided"] is False
    assert at["budget_can_move"] is at["decided"] and below["budget_can_move"] is False
