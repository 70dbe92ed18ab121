"""bench/ppi_coverage.py's code path on synthetic data with a known mean, and its real-data loaders."""

from __future__ import annotations

import numpy as np
import pytest

from tests.bench import load_script

cov = load_script("ppi_coverage")


def _population(seed: int = 3, size: int = 2000) -> object:
    rng = np.random.default_rng(seed)
    y = rng.normal(3.0, 1.0, size=size)
    judge = 0.7 * y + 1 + rng.normal(0, 0.5, size=size)
    return cov.Population("synthetic", "d", "c", "noisy judge", y, judge)


def test_iid_design_covers_near_nominal():
    """800 repetitions at n = 200 (10%): a Binomial(800, 0.95) count has sd 0.77 points;
    0.92-0.98 is 3.9 sd either side, so only a real miscoverage fails it (seeded)."""
    res = cov.simulate(_population(), 0.10, 800, np.random.default_rng(0), "iid")
    assert res["n"] == 200
    assert 0.92 <= res["ppi_cov"] <= 0.98 and 0.92 <= res["cl_cov"] <= 0.98
    assert res["ppi_width"] < res["cl_width"]  # a correlated judge narrows the interval
    assert res["n_eff"] > res["n"]


def test_split_design_at_half_over_covers():
    """Without replacement from a finite set, half labelled: the intervals ignore the finite-population
    correction (1 - n/N = 0.5), so they over-cover, as docs/results/ppi_coverage.md reports."""
    res = cov.simulate(_population(), 0.50, 500, np.random.default_rng(1), "split")
    assert res["ppi_cov"] > 0.97 and res["cl_cov"] > 0.97


def test_real_data_loaders():
    hanna = cov.hanna_populations()
    assert len(hanna) == 5 * 4 * 6  # 5 LLMs x 4 prompts x 6 criteria
    assert all(p.y.shape[0] == 960 for p in hanna)  # the 10 generating systems x 96 prompts
    assert all(p.y.shape == p.yhat.shape and p.y.shape[0] <= 960 for p in hanna)
    bbm = cov.bbm_populations(None)
    assert [p.domain for p in bbm] == [*cov.BBM_TASKS, "3 tasks pooled"]
    assert [p.y.shape[0] for p in bbm] == [300, 300, 300, 900]
    assert all(set(np.unique(p.y)) <= {0.0, 1.0} for p in bbm)
    sq = cov.squality_populations()
    assert [p.criterion for p in sq] == ["correctness", "coverage", "overall"]
    assert all(p.y.shape[0] == 300 for p in sq)


def test_binary_population_gets_the_adjusted_intervals_on_the_same_draws():
    """A judge that agrees with people on 95% of 0/1 items, wrong mostly one way."""
    y = np.repeat([1.0, 1.0, 0.0, 0.0], [240, 2, 16, 42])
    yhat = np.repeat([1.0, 0.0, 1.0, 0.0], [240, 2, 16, 42])
    pop = cov.Population("synthetic", "d", "share", "binary judge", y, yhat)
    res = cov.simulate(pop, 0.20, 600, np.random.default_rng(4), "split-finite")
    assert res["n"] == 60
    for method in cov.BINARY_OPTIONS:
        assert res[f"{method}_width"] > res["ppi_width"]  # the pseudo-counts only widen
        assert res[f"{method}_cov"] > res["ppi_cov"]
    assert res["agresti-coull_width"] > 0 and 0 <= res["agresti-coull_cov"] <= 1
    assert "agresti-min_cov" not in cov.simulate(_population(), 0.1, 5, np.random.default_rng(0), "iid")


def test_datasets_filter(capsys):
    cov.main(["--reps", "2", "--datasets", "bbm", "--design", "split-finite"])
    out = capsys.readouterr().out
    assert "### BIG-Bench Mistake" in out and "agresti-min cov" in out
    assert "bonett-price-centred cov" in out and "agresti-coull cov" in out
    assert "HANNA" not in out and "SQuALITY" not in out
    with pytest.raises(SystemExit):
        cov.main(["--datasets", "bbm,imdb"])
