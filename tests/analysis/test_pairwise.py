"""analysis.pairwise against hand counts and second implementations (sklearn, scipy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from sklearn.metrics import cohen_kappa_score

from analysis.pairwise import (
    VOTE_COLUMNS,
    bradley_terry,
    fastchat_agreement,
    llmbar_kappa,
    order_accuracy,
    pairwise_section,
    panel_agreement,
    position_stats,
)

NAN = float("nan")


def test_fastchat_agreement_counts_every_vote_pair() -> None:
    judge = {"p1": [1.0], "p2": [0.0], "p3": [-1.0]}
    people = {"p1": [1.0, -1.0], "p2": [0.0, 1.0], "p3": [-1.0], "p4": [1.0]}
    out = fastchat_agreement(judge, people)
    # pairs: p1 (1,1) (1,-1), p2 (0,0) (0,1), p3 (-1,-1): 3 of 5 agree; without ties: p1 x2, p3: 2 of 3
    assert out == {
        "with_ties": 0.6,
        "n_with_ties": 5,
        "without_ties": pytest.approx(2 / 3, abs=1e-6),
        "n_without_ties": 3,
    }
    panel = {"p1": [("a", 1.0), ("b", 1.0), ("c", -1.0)], "p2": [("a", 0.0)]}
    hh = panel_agreement(panel)
    assert (hh["with_ties"], hh["n_with_ties"]) == (pytest.approx(1 / 3, abs=1e-6), 3)


def test_position_stats_by_hand() -> None:
    ab = np.array([1, 1, -1, 1, 0, NAN])
    ba = np.array([1, -1, 1, 1, -1, 1])
    out = position_stats(ab, ba)
    assert (out["n_pairs"], out["n_consistent"], out["consistency"]) == (5, 2, 0.4)
    assert (
        out["inconsistent_first_slot"],
        out["inconsistent_second_slot"],
        out["inconsistent_with_tie"],
    ) == (1, 1, 1)
    # first slot chosen: ab==+1 (3 of 4 decided ab verdicts), ba==-1 (2 of 6): 5 of 10
    assert (out["first_slot_share"], out["n_decided_verdicts"], out["no_verdict"]) == (0.5, 10, 1)


def test_order_accuracy_and_kappa_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    gold = rng.choice([1.0, -1.0], 200)
    ab = np.where(rng.random(200) < 0.8, gold, -gold)
    ba = np.where(rng.random(200) < 0.7, gold, rng.choice([1.0, -1.0, 0.0], 200))
    out = order_accuracy(ab, ba, gold)
    assert out["correct_ab"] == int((ab == gold).sum()) and out["correct_both"] == int(
        ((ab == gold) & (ba == gold)).sum()
    )
    assert out["kappa_ab"] == pytest.approx(cohen_kappa_score(ab, gold), abs=1e-6)
    assert out["kappa_ba"] == pytest.approx(cohen_kappa_score(ba, gold), abs=1e-6)


def test_llmbar_kappa_is_evaluate_py_to_the_bit() -> None:
    """LLMBar's evaluate.py: int(winner) if winner in ("0", "1") else 0, against gold 1/2."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        gold = rng.choice([1.0, -1.0], 60)
        ab, ba = (rng.choice([1.0, -1.0, NAN], 60, p=[0.5, 0.45, 0.05]) for _ in range(2))
        code = lambda v: [1 if x == 1 else 0 for x in v]  # noqa: E731
        g = [1 if x == 1 else 2 for x in gold]
        out = llmbar_kappa(ab, ba, gold)
        assert out["kappa_False"] == cohen_kappa_score(code(ab), g)
        assert out["kappa_True"] == cohen_kappa_score(code(ba), g)
        assert out["kappa_agreement"] == cohen_kappa_score(code(ab), code(ba))


def _direct_mle(a: np.ndarray, b: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Bradley-Terry by maximising the likelihood directly (ties half a win each way)."""

    def nll(theta: np.ndarray) -> float:
        d = theta[a] - theta[b]
        return float(-np.sum((v + 1) / 2 * -np.logaddexp(0, -d) + (1 - v) / 2 * -np.logaddexp(0, d)))

    res = minimize(nll, np.zeros(n), method="BFGS", options={"gtol": 1e-10})
    return res.x - res.x.mean()


def test_bradley_terry_matches_a_direct_mle() -> None:
    rng = np.random.default_rng(11)
    strength = np.array([1.0, 0.4, 0.0, -0.6, -1.2])
    a = rng.integers(0, 5, 600)
    b = (a + rng.integers(1, 5, 600)) % 5
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(600)
    v = np.where(u < p * 0.85, 1.0, np.where(u < 0.85, -1.0, 0.0))
    mm = bradley_terry(a, b, v, 5)
    np.testing.assert_allclose(mm, _direct_mle(a, b, v, 5), atol=1e-5)
    assert np.argsort(-mm).tolist() == [0, 1, 2, 3, 4]


def test_bradley_terry_leaves_out_systems_without_a_finite_mle() -> None:
    # system 2 never lost: its strength is infinite, so it is NaN and the others are estimated
    a, b, v = [0, 0, 1, 2, 2], [1, 1, 0, 0, 1], [1.0, -1.0, 1.0, 1.0, 1.0]
    out = bradley_terry(a, b, v, 3)
    # between 0 and 1, system 1 won 2 of 3: strengths -+ log(2) / 2
    assert (
        np.isnan(out[2])
        and out[0] == pytest.approx(-np.log(2) / 2)
        and out[1] == pytest.approx(np.log(2) / 2)
    )


def _votes(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(VOTE_COLUMNS))


def test_section_people_and_judges_on_systems() -> None:
    rng = np.random.default_rng(5)
    systems = ["m1", "m2", "m3", "m4"]
    strength = {"m1": 1.5, "m2": 0.5, "m3": -0.5, "m4": -1.5}
    rows = []
    for n in range(120):
        x, y = sorted(rng.choice(systems, 2, replace=False))
        p = 1 / (1 + np.exp(-(strength[x] - strength[y])))
        truth = 1.0 if rng.random() < p else -1.0
        for rater in ("h1", "h2", "h3"):
            vote = truth if rng.random() < 0.8 else 0.0
            rows.append((f"p{n}", rater, "external", "d", "overall", vote, NAN, NAN, x, y))
        ab, ba = truth, (truth if rng.random() < 0.9 else -truth)
        combined = ab if ab == ba else 0.0
        rows.append((f"p{n}", "judge", "judge", "d", "overall", combined, ab, ba, x, y))
    (section,) = pairwise_section(_votes(rows), n_resamples=100, seed=0)
    assert section["n_pairs"] == 120 and section["human_raters"] == 3
    assert section["human_human"]["n_with_ties"] == 360
    (judge,) = section["judges"]
    assert judge["position"]["n_pairs"] == 120 and 0.8 < judge["position"]["consistency"] < 1
    assert judge["order_accuracy"] is None  # three people: no single reference
    assert judge["agreement"]["with_ties_ci"][0] < judge["agreement"]["with_ties_ci"][1]
    for block, key in (
        ("agreement", "with_ties"),
        ("agreement", "without_ties"),
        ("position", "consistency"),
        ("position", "first_slot_share"),
    ):
        low, high = judge[block][f"{key}_ci"]
        assert low <= judge[block][key] <= high
    bt = section["bradley_terry"]
    people = [bt["people"]["systems"][s]["strength"] for s in systems]
    assert people == sorted(people, reverse=True)
    for s in systems:
        low, high = bt["people"]["systems"][s]["ci"]
        assert low <= bt["people"]["systems"][s]["strength"] <= high
    assert bt["judges"]["judge"]["spearman_vs_people"] == 1.0


def test_report_overview_has_the_pairwise_section_and_the_alt_test() -> None:
    from analysis.report import ReportSettings, build_report
    from analysis.report_html import render_html

    rng = np.random.default_rng(9)
    rows = []
    for n in range(40):
        x, y = ("m1", "m2") if n % 2 else ("m2", "m3")
        truth = 1.0 if rng.random() < 0.7 else -1.0
        for rater in ("h1", "h2", "h3"):
            rows.append(
                (
                    f"p{n}",
                    rater,
                    "external",
                    "d",
                    "overall",
                    truth if rng.random() < 0.85 else -truth,
                    NAN,
                    NAN,
                    x,
                    y,
                )
            )
        rows.append((f"p{n}", "judge", "judge", "d", "overall", truth, truth, truth, x, y))
    votes = _votes(rows)
    tidy = votes.assign(unit=votes["item"], level="pairwise")[
        ["unit", "item", "rater", "rater_kind", "domain", "level", "criterion", "value"]
    ]
    report = build_report(
        tidy, settings=ReportSettings(n_resamples=50, scales={"pairwise": [-1, 0, 1]}), pairwise=votes
    )
    (group,) = report.data["groups"]
    assert (group["level"], group["alpha_level"]) == ("pairwise", "nominal")
    (judge,) = group["judges_vs_humans"]
    assert judge["reference"] == "human majority"
    assert judge["alt_test"]["alignment"] == "accuracy"
    (section,) = report.data["pairwise"]
    assert section["judges"][0]["position"]["consistency"] == 1.0
    page = render_html(report)
    assert "Pairwise preferences (A / B / tie)" in page and "Bradley-Terry log-strength" in page


def test_people_first_slot_share_counts_the_order_each_was_shown() -> None:
    """A person's vote sits in ``ab`` (A shown first) or ``ba`` (B first); imported labels in
    neither. The share and its CI are over non-tie verdicts, resampling pairs."""
    rows = [
        ("p1", "h1", "human", "d", "overall", 1.0, 1.0, NAN, "", ""),  # A first, chose A: first slot
        ("p1", "h2", "human", "d", "overall", -1.0, NAN, -1.0, "", ""),  # B first, chose B: first slot
        ("p2", "h1", "human", "d", "overall", 1.0, NAN, 1.0, "", ""),  # B first, chose A: second slot
        ("p2", "h2", "human", "d", "overall", 0.0, 0.0, NAN, "", ""),  # a tie: not decided
        ("p3", "h1", "human", "d", "overall", -1.0, NAN, NAN, "", ""),  # imported: no order
    ]
    (section,) = pairwise_section(_votes(rows), n_resamples=200, seed=1)
    people = section["human_position"]
    assert (people["first_slot_share"], people["n_decided_verdicts"]) == (round(2 / 3, 6), 3)
    assert (people["n_shown_first_a"], people["n_shown_first_b"]) == (2, 2)
    low, high = people["first_slot_share_ci"]
    assert 0.0 <= low <= 2 / 3 <= high <= 1.0
    only_imported = [r for r in rows if r[0] == "p3"]
    (section,) = pairwise_section(_votes(only_imported), n_resamples=10, seed=1)
    assert section["human_position"] is None
