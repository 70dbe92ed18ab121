"""Verdicts a reviewer would accept: the reliability gate, out-of-scale judge output, the
alternative-annotator test pooled over domains, and rater ids that are slots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.report import ReportSettings, build_report
from analysis.tidy import COLUMNS

SCALE = {"rubric/quality": [1, 2, 3, 4, 5]}


def _ratings(seed: int, n: int, noise: float, domains=("a",), judge_noise: float = 0.3, extra=None):
    """Three humans and a judge rating n items per domain on 1-5 around a true quality."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in domains:
        truth = rng.integers(1, 6, n)
        for i, q in enumerate(truth):
            unit = f"{d}-{i}"
            for h in range(3):
                v = q if rng.random() > noise else rng.integers(1, 6)
                rows.append((unit, unit, f"h{h}", "external", d, "rubric", "quality", float(v)))
            j = q if rng.random() > judge_noise else rng.integers(1, 6)
            rows.append((unit, unit, "llm", "judge", d, "rubric", "quality", float(j)))
    if extra:
        rows += extra
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _settings(**kw):
    return ReportSettings(n_resamples=200, scales=SCALE, **kw)


def test_no_replacement_verdict_on_an_unreliable_human_reference():
    """Regression: with people who barely agree, the report still said the judge agrees with
    them 'better than people agree with each other'. The gate withholds the verdict."""
    rep = build_report(_ratings(0, 150, noise=0.8), settings=_settings())
    (group,) = rep.data["groups"]
    gate = group["human_reliability"]
    assert gate["threshold"] == 0.667 and gate["reliable"] is False
    assert gate["alpha"]["value"] < 0.667 and gate["alpha"]["n_units"] == 150
    assert gate["alpha"]["statistic"] == "krippendorff_alpha[ordinal]" and len(gate["alpha"]["ci"]) == 2
    (verdict,) = rep.data["verdicts"]
    assert verdict["agreement"] is None and verdict["alt_test_passed"] is None
    assert verdict["reason"].startswith("the human reference is unreliable: h0, h1, h2 reach")
    assert "below the threshold 0.667" in verdict["reason"] and "more raters per item" in verdict["reason"]
    assert verdict["summary"].startswith("no verdict:")
    # the statistics that remain are still there
    assert group["judges_vs_humans"][0]["gap"]["difference"] is not None


def test_a_reliable_reference_gets_a_verdict_and_the_threshold_is_the_studys():
    data = _ratings(1, 150, noise=0.1)
    rep = build_report(data, settings=_settings())
    assert rep.data["groups"][0]["human_reliability"]["reliable"] is True
    assert rep.data["verdicts"][0]["agreement"] is not None
    strict = build_report(data, settings=_settings(min_human_alpha=0.99))
    assert strict.data["verdicts"][0]["agreement"] is None
    assert strict.data["settings"]["min_human_alpha"] == 0.99


@pytest.mark.parametrize(
    ("policy", "n_units", "kept"), [("exclude", 150, None), ("clip", 152, 5.0), ("keep", 152, 10.0)]
)
def test_judge_output_outside_the_scale_is_counted_and_handled(policy, n_units, kept):
    """Regression: 0 or 10 on a 1-5 scale entered every statistic as it was, silently."""
    data = _ratings(2, 150, noise=0.1)
    extra = []
    for i, v in enumerate((0.0, 10.0)):
        unit = f"x{i}"
        extra += [(unit, unit, f"h{h}", "external", "a", "rubric", "quality", 3.0) for h in range(3)]
        extra.append((unit, unit, "llm", "judge", "a", "rubric", "quality", v))
    rep = build_report(
        pd.concat([data, pd.DataFrame(extra, columns=list(COLUMNS))]), settings=_settings(out_of_scale=policy)
    )
    detail = rep.data["groups"][0]["judges_vs_humans"][0]
    assert detail["out_of_scale"] == {"count": 2, "policy": policy, "scale": [1.0, 5.0]}
    assert detail["n_units"] == n_units
    assert detail["statistics"]["kendall"]["n_units"] == n_units
    assert "2 judge rating(s) outside the scale" in rep.data["verdicts"][0]["reason"]
    if kept is not None:
        assert max(rep.points[("a", "rubric", "quality", "llm")]["judge"]) == kept


def test_the_alternative_annotator_test_is_pooled_over_domains():
    data = _ratings(3, 120, noise=0.1, domains=("a", "b", "c"), judge_noise=0.1)
    rep = build_report(data, settings=_settings())
    (pooled,) = rep.data["alt_test_domains"]
    assert pooled["domains_tested"] == 3 and pooled["summary"].startswith("passes in ")
    assert pooled["fdr_family"] == "pooled over 3 groups (9 annotators)"
    for g in rep.data["groups"]:
        aat = g["judges_vs_humans"][0]["alt_test"]
        assert aat["fdr_family"] == "pooled over 3 groups (9 annotators)"
        assert [e["epsilon"] for e in aat["epsilon_grid"]] == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def test_rater_ids_that_are_slots_void_the_alternative_annotator_test():
    data = _ratings(4, 150, noise=0.1)
    rep = build_report(data, settings=_settings(unstable_raters=frozenset({"h0", "h1", "h2"})))
    detail = rep.data["groups"][0]["judges_vs_humans"][0]
    assert "are slots, not people" in detail["alt_test"]["premise"]
    assert detail["alt_test"]["winning_rate"] is not None  # shown ...
    assert rep.data["verdicts"][0]["alt_test_passed"] is None  # ... not used
    assert "premise does not hold" in rep.data["verdicts"][0]["reason"]


def test_every_judge_says_how_it_is_compared_and_competence_is_estimated():
    data = _ratings(5, 150, noise=0.1)
    data.loc[data.rater == "llm", "value"] += 0.33  # means of samples: between the scale's points
    rep = build_report(data, settings=_settings())
    group = rep.data["groups"][0]
    detail = group["judges_vs_humans"][0]
    assert detail["continuous_scores"] is True
    assert detail["comparison"]["alpha_level"] == "ordinal"
    assert "rounded half up to the nearest point for alpha" in detail["comparison"]["judge_values"]
    assert "on the same units" in detail["comparison"]["gap"]
    comp = group["competence"]
    assert [r["rater"] for r in comp["raters"]] == ["h0", "h1", "h2"]
    assert all(0 < r["accuracy"] <= 1 for r in comp["raters"])
    assert "kendall" in detail["vs_latent_consensus"]
