"""Property tests: the statistics against independent implementations on random data.

Second implementations: ``krippendorff`` 0.9.0 (alpha), ``statsmodels``
(Fleiss' kappa, Cohen's kappa and its ASE), ``scikit-learn`` (Cohen's kappa with
``labels=``), ``pingouin`` (ICC). Data include missing ratings, skewed
prevalence (the kappa paradox) and all-identical ratings.
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from analysis.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    icc,
    krippendorff_alpha,
    percent_agreement,
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ratings(draw, *, missing: bool = True, min_units: int = 2, max_units: int = 25):
    n_raters = draw(st.integers(2, 5))
    n_units = draw(st.integers(min_units, max_units))
    n_values = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.integers(1, n_values + 1, size=(n_raters, n_units)).astype(float)
    if missing:
        x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.2, 0.5]))] = np.nan
    return x


def _package_alpha(x: np.ndarray, level: str) -> float | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = krippendorff.alpha(reliability_data=x, level_of_measurement=level)
    except ValueError:
        return None
    return None if np.isnan(v) else float(v)


@SETTINGS
@given(x=ratings(), level=st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_krippendorff_package(x, level):
    ours = krippendorff_alpha(x, level, engine="native")
    expected = _package_alpha(x, level)
    if expected is None:
        assert ours.value is None and ours.reason
    else:
        assert ours.value == pytest.approx(expected, abs=1e-9)
        m = np.sum(~np.isnan(x), axis=0)
        assert ours.n_dropped == int(np.sum(m == 1))
        assert ours.n_units == int(np.sum(m >= 2))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(30, 45))
def test_interval_closed_form_matches_package_on_continuous_scores(seed, n_units):
    rng = np.random.default_rng(seed)
    truth = rng.random(n_units)
    x = truth + 0.2 * rng.normal(size=(3, n_units))
    x[rng.random(x.shape) < 0.2] = np.nan
    ours = krippendorff_alpha(x, "interval")
    assert ours.extra["engine"] == "closed form"
    assert ours.value == pytest.approx(_package_alpha(x, "interval"), abs=1e-9)


def test_interval_alpha_on_1000_float_scores_without_allocating_values_squared():
    # krippendorff 0.9.0 would allocate 1000 x 3000 x 3000 floats here.
    rng = np.random.default_rng(7)
    truth = rng.random(1000)
    x = truth + 0.1 * rng.normal(size=(3, 1000))
    r = krippendorff_alpha(x, "interval", ci=0.95, n_resamples=200)
    assert r.value is not None and r.ci[0] < r.value < r.ci[1]
    # Shifting or rescaling every rating leaves interval alpha unchanged.
    assert krippendorff_alpha(3 * x + 10, "interval").value == pytest.approx(r.value, abs=1e-9)


@SETTINGS
@given(x=ratings(missing=False))
def test_fleiss_matches_statsmodels(x):
    table, _ = inter_rater.aggregate_raters(x.T.astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = inter_rater.fleiss_kappa(table, method="fleiss")
    ours = fleiss_kappa(x)
    if np.isnan(expected):
        assert ours.value is None and ours.reason
    else:
        assert ours.value == pytest.approx(expected, abs=1e-9)


@st.composite
def two_raters(draw):
    n = draw(st.integers(2, 60))
    k = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, size=n)
    agree = rng.random(n) < draw(st.sampled_from([0.0, 0.5, 0.9]))
    b = np.where(agree, a, rng.integers(0, k, size=n))
    # Labels declared on a wider scale than observed, e.g. 0..k (k never used).
    return a, b, list(range(k + 1))


@SETTINGS
@given(data=two_raters(), weights=st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_matches_sklearn_with_full_label_set(data, weights):
    a, b, labels = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cohen_kappa_score(a, b, labels=labels, weights=weights)
    ours = cohen_kappa(a, b, labels=labels, weights=weights)
    if np.isnan(expected):
        assert ours.value is None and ours.reason
    else:
        assert ours.value == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(data=two_raters())
def test_cohen_ase_matches_statsmodels(data):
    a, b, labels = data
    ours = cohen_kappa(a, b, labels=labels)
    table = np.array(ours.extra["table"], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = inter_rater.cohens_kappa(table)
    if ours.value is None:
        assert np.isnan(res.kappa)
        return
    assert ours.value == pytest.approx(res.kappa, abs=1e-9)
    if np.isnan(res.std_kappa):  # statsmodels: sqrt of a variance rounded below 0
        assert ours.extra["ase"] == pytest.approx(0.0, abs=1e-6)
    else:
        # compared as variances: near 0 a square root turns rounding of 1e-17 into 1e-8
        assert ours.extra["ase"] ** 2 == pytest.approx(res.std_kappa**2, abs=1e-14)
        assert ours.extra["ase"] == pytest.approx(res.std_kappa, rel=1e-6, abs=1e-7)


def test_cohen_weighted_label_set_matters():
    """sklearn without labels= measures distance by position among observed labels."""
    a = [1, 1, 5, 5, 1, 5]
    b = [1, 5, 5, 1, 1, 5]
    full = cohen_kappa(a, b, labels=[1, 2, 3, 4, 5], weights="linear")
    assert full.value == pytest.approx(
        cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5], weights="linear"), abs=1e-12
    )
    # Without labels, numeric values give the scale: same as the full label set.
    assert cohen_kappa(a, b, weights="linear").value == pytest.approx(full.value, abs=1e-12)


def test_missing_pairs_are_dropped_and_counted():
    r = cohen_kappa([1, 2, None, 1, float("nan")], [1, 2, 1, None, 2], labels=[1, 2])
    assert r.n_units == 2 and r.n_dropped == 3
    assert r.value == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 15), k=st.integers(2, 5))
def test_icc_matches_pingouin(seed, n, k):
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 6, size=(n, k)).astype(float) + rng.integers(0, 3, size=(n, 1))
    df = pd.DataFrame([(i, j, y[i, j]) for i in range(n) for j in range(k)], columns=["t", "r", "s"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pg.intraclass_corr(df, targets="t", raters="r", ratings="s").set_index("Type")
    for kind in ("1,1", "A,1", "C,1", "1,k", "A,k", "C,k"):
        row = ref.loc[f"ICC({kind})"]
        ours = icc(y.T, kind, ci=0.95)
        if not np.isfinite(row["ICC"]) or abs(row["ICC"]) > 1e6:
            # Undefined (pingouin: NaN, or a huge value from a rounding-noise denominator).
            assert ours.value is None
            continue
        assert ours.value == pytest.approx(row["ICC"], abs=1e-9)
        assert ours.extra["F"] == pytest.approx(row["F"], rel=1e-9)
        if ours.ci is not None and np.all(np.isfinite(row["CI95"])):
            # pingouin rounds its interval to 2 decimals.
            assert ours.ci == pytest.approx(tuple(row["CI95"]), abs=0.0051, rel=1e-6)


def test_icc_drops_incomplete_units_and_counts_them():
    x = np.array([[1, 2, 3, np.nan, 5], [1, 3, 3, 4, 4]])
    r = icc(x, "C,1")
    assert r.n_units == 4 and r.n_dropped == 1
    assert r.value == pytest.approx(icc(x[:, [0, 1, 2, 4]], "C,1").value)


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(40, 200),
    minority=st.floats(0.01, 0.1),
)
def test_kappa_paradox_skewed_prevalence(seed, n, minority):
    """Most steps correct: kappa collapses, AC1 and percent agreement stay high."""
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < minority).astype(int)
    b = np.where(rng.random(n) < 0.9, a, (rng.random(n) < minority).astype(int))
    kappa = cohen_kappa(a, b, labels=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = cohen_kappa_score(a, b, labels=[0, 1])
    pair = np.array([a, b], dtype=float)
    ac1 = gwet_ac1(pair, categories=[0, 1])
    pa = percent_agreement(pair)
    assert pa.value == pytest.approx(np.mean(a == b))
    # Two-rater AC1 from the table (Gwet 2008): pi_k = (p_k. + p_.k) / 2.
    pi1 = (a.mean() + b.mean()) / 2
    pe = 2 * pi1 * (1 - pi1)
    if np.all(a == b) and (a.min() == a.max()):
        assert ac1.value is None and kappa.value is None
        return
    assert ac1.value == pytest.approx((np.mean(a == b) - pe) / (1 - pe), abs=1e-9)
    if np.isnan(sk):
        assert kappa.value is None
    else:
        assert kappa.value == pytest.approx(sk, abs=1e-9)
        if max(a.mean(), b.mean()) < 0.25:
            assert ac1.value >= kappa.value


@SETTINGS
@given(
    value=st.integers(-1, 5),
    n_raters=st.integers(2, 4),
    n_units=st.integers(2, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_all_identical_ratings_are_undefined(value, n_raters, n_units, seed):
    rng = np.random.default_rng(seed)
    x = np.full((n_raters, n_units), float(value))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:2, 0] = value  # at least one pairable unit
    for level in ("nominal", "ordinal", "interval", "ratio"):
        if level == "ratio" and value < 0:
            continue
        r = krippendorff_alpha(x, level, ci=0.95, n_resamples=50)
        assert r.value is None and r.ci is None and "identical" in r.reason
    for r in (
        fleiss_kappa(x),
        gwet_ac1(x, categories=[-1, 0, 1, 2, 3, 4, 5]),
        cohen_kappa(x[0], x[1], labels=[-1, 0, 1, 2, 3, 4, 5]),
    ):
        assert r.value is None and r.reason
    assert percent_agreement(x).value == 1.0


def test_no_pairable_unit_is_undefined():
    x = [[1, None, 2], [None, 3, None]]
    r = krippendorff_alpha(x)
    assert r.value is None and r.n_dropped == 3 and r.reason == "no unit has two or more ratings"
    assert gwet_ac1(x).value is None
    assert percent_agreement(x).value is None


def test_bad_input_raises_exact_messages():
    with pytest.raises(ValueError, match=r"^level must be one of nominal, ordinal, interval, ratio$"):
        krippendorff_alpha([[1, 2], [1, 2]], "cardinal")
    with pytest.raises(ValueError, match=r"^data must be a 2-D raters x units matrix$"):
        krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match=r"^rating 7 is not one of the declared categories$"):
        gwet_ac1([[1, 7], [1, 2]], categories=[1, 2, 3])
    with pytest.raises(ValueError, match=r"^clusters must have one label per unit$"):
        krippendorff_alpha([[1, 2], [1, 2]], clusters=[0])


def test_too_many_profiles_for_a_categorical_level_raise():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 900, size=(3, 3000)).astype(float)
    with pytest.raises(ValueError, match="too many for ordinal alpha"):
        krippendorff_alpha(x, "ordinal")


def test_nominal_statistics_take_labels_as_strings():
    """Regression: gwet_ac1 refused string labels ("ratings must be numeric")."""
    from analysis.agreement import fleiss_kappa, gwet_ac1, krippendorff_alpha, percent_agreement

    labels = [
        ["yes", "no", "yes", None, "yes"],
        ["yes", "no", "no", "no", "yes"],
        ["no", "no", "yes", "no", None],
    ]
    codes = [[{"no": 0, "yes": 1}.get(v, np.nan) for v in row] for row in labels]
    for statistic in (gwet_ac1, fleiss_kappa, percent_agreement):
        assert (
            statistic(labels, ci=0.95, n_resamples=50).to_dict()
            == statistic(np.array(codes), ci=0.95, n_resamples=50).to_dict()
        )
    assert gwet_ac1(labels, categories=["yes", "no", "maybe"]).value == pytest.approx(
        gwet_ac1(np.array(codes), categories=[0, 1, 2]).value
    )
    assert krippendorff_alpha(labels, "nominal").value == pytest.approx(
        krippendorff_alpha(np.array(codes), "nominal").value
    )
    with pytest.raises(ValueError, match="label 'maybe' is not one of the declared categories"):
        gwet_ac1([*labels, ["maybe"] * 5], categories=["yes", "no"])
    with pytest.raises(ValueError, match="ratings must be numeric"):
        krippendorff_alpha(labels, "ordinal")
