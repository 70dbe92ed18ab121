"""Every applicable entry of ../shared/data/agreement/reference_values.json.

Published values (3 dp, or as printed) to their stated tolerance (5e-4 for
3-dp values), values reproduced to 6 dp by independent implementations to
1e-6. Each test names the entry's source.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    icc,
    krippendorff_alpha,
    percent_agreement,
)
from tests.analysis.contingency import counts_to_raters, table_to_pairs

PUB = 5e-4
SIX = 1e-6
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def printed(value: float) -> float:
    """Tolerance of a published value: half a unit in its last printed decimal."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", sections C-F:
# 4 observers x 12 units, unit 12 holds a single rating.
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_published_and_6dp(reference, level):
    e = reference["krippendorff2011_4obs_12units"]
    for engine in ("native", "package"):
        r = krippendorff_alpha(e["data"], level, engine=engine)
        assert r.value == pytest.approx(e["expected"][f"alpha_{level}"], abs=PUB)
        assert r.value == pytest.approx(e["expected_6dp"][level], abs=SIX)
        assert r.n_units == 11
        assert r.n_dropped == 1  # unit 12: single rating, ignored and counted
        assert r.extra["n_pairable_values"] == e["expected_6dp"]["n_pairable_values"]


def test_krippendorff_2011_other_coefficients_irrcac(reference):
    """Same data, irrCAC 0.4.4 values (Gwet's framework, declared scale 1..5)."""
    e = reference["krippendorff2011_4obs_12units"]
    other = e["other_coefficients_irrCAC_0_4_4"]
    cats = [1, 2, 3, 4, 5]
    assert gwet_ac1(e["data"], categories=cats).value == pytest.approx(other["gwet_AC1"], abs=SIX)
    assert fleiss_kappa(e["data"]).value == pytest.approx(other["fleiss_kappa"], abs=SIX)
    ac2 = gwet_ac2(e["data"], categories=cats, weights="quadratic")
    assert ac2.value == pytest.approx(other["AC2_quadratic"], abs=SIX)
    # irrCAC's "ordinal" weights are not Krippendorff's ordinal metric.
    assert krippendorff_alpha(e["data"], "ordinal").value != pytest.approx(0.833638, abs=1e-3)


# Wikipedia "Krippendorff's alpha" computational example; interval value from
# the fast-krippendorff test suite (tests/test_krippendorff.py).
@pytest.mark.parametrize("level", LEVELS)
def test_wikipedia_alpha_3_coders(reference, level):
    e = reference["wikipedia_kripp_alpha_3coders_15units"]
    r = krippendorff_alpha(e["data"], level)
    assert r.value == pytest.approx(e["expected_6dp"][f"alpha_{level}"], abs=SIX)
    if f"alpha_{level}" in e["expected"]:
        assert r.value == pytest.approx(e["expected"][f"alpha_{level}"], abs=SIX)
    assert r.n_dropped == 1  # unit 1; units 2 and 14 are empty
    assert r.n_units == 12


# Wikipedia "Fleiss' kappa" worked example (statsmodels test_fleiss_kappa).
def test_fleiss_wikipedia(reference):
    e = reference["fleiss_wikipedia_10subjects_14raters"]
    x = counts_to_raters(e["data"])
    assert x.shape == (14, 10)
    r = fleiss_kappa(x)
    assert r.value == pytest.approx(e["expected"]["fleiss_kappa"], abs=PUB)
    assert r.value == pytest.approx(e["expected_6dp"]["fleiss_kappa"], abs=SIX)
    assert r.extra["p_a"] == pytest.approx(e["expected_6dp"]["P_bar"], abs=SIX)
    assert r.extra["p_e"] == pytest.approx(e["expected_6dp"]["Pe_bar"], abs=SIX)
    assert r.extra["p_a"] == pytest.approx(e["expected"]["P_bar"], abs=PUB)
    alpha = krippendorff_alpha(x, "nominal")
    assert alpha.value == pytest.approx(e["expected_6dp"]["kripp_alpha_nominal"], abs=SIX)


CONTINGENCY = (
    "cohen_wikipedia_50_proposals",
    "cohen_sas_proc_freq_3x3",
    "gwet_cont3x3_abstractors",
    "kappa_paradox_prevalence_118_5_2_0",
)


@pytest.mark.parametrize("name", CONTINGENCY)
def test_contingency_tables_6dp(reference, name):
    """Cohen's kappa, its ASE and normal CI, p_o, AC1, Scott's pi, alpha.

    Sources: Wikipedia "Cohen's kappa"; SAS PROC FREQ AGREE printout in statsmodels
    test_inter_rater.py; Gwet's Handbook (4th ed.) via irrCAC; the Feinstein &
    Cicchetti (1990) paradox table.
    """
    e = reference[name]
    x6 = e["expected_6dp"]
    a, b = table_to_pairs(e["data"])
    labels = list(range(1, len(e["data"]) + 1))
    k = cohen_kappa(a, b, labels=labels)
    assert k.value == pytest.approx(x6["cohen_kappa"], abs=SIX)
    published = e["expected"]["cohen_kappa"]
    assert k.value == pytest.approx(published, abs=max(printed(published), SIX))
    assert k.extra["p_o"] == pytest.approx(x6["p_o"], abs=SIX)
    assert k.extra["ase"] == pytest.approx(x6["ase"], abs=SIX)
    low, high = x6["ci95_normal"]
    assert k.value - 1.959964 * k.extra["ase"] == pytest.approx(low, abs=1e-5)
    assert k.value + 1.959964 * k.extra["ase"] == pytest.approx(high, abs=1e-5)
    pair = np.array([a, b], dtype=float)
    ac1 = gwet_ac1(pair, categories=labels)
    assert ac1.value == pytest.approx(x6["gwet_AC1"], abs=SIX)
    # Fleiss' kappa of two raters is Scott's pi.
    assert fleiss_kappa(pair, categories=labels).value == pytest.approx(x6["scott_pi"], abs=SIX)
    alpha = krippendorff_alpha(pair, "nominal")
    assert alpha.value == pytest.approx(x6["kripp_alpha_nominal"], abs=SIX)
    assert percent_agreement(pair).value == pytest.approx(x6["p_o"], abs=SIX)
    if "p_e" in e["expected"]:
        assert k.extra["p_e"] == pytest.approx(e["expected"]["p_e"], abs=SIX)


def test_sas_weighted_kappa(reference):
    """SAS PROC FREQ: weighted kappa (Cicchetti-Allison linear) 0.4701, ASE 0.1457."""
    e = reference["cohen_sas_proc_freq_3x3"]
    a, b = table_to_pairs(e["data"])
    lin = cohen_kappa(a, b, labels=[1, 2, 3], weights="linear")
    quad = cohen_kappa(a, b, labels=[1, 2, 3], weights="quadratic")
    assert lin.value == pytest.approx(e["expected"]["weighted_kappa_linear_cicchetti_allison"], abs=5e-5)
    assert lin.extra["ase"] == pytest.approx(e["expected"]["weighted_ase"], abs=5e-5)
    assert lin.value == pytest.approx(e["expected_6dp"]["weighted_linear"], abs=SIX)
    assert lin.extra["ase"] == pytest.approx(e["expected_6dp"]["weighted_linear_ase"], abs=SIX)
    assert quad.value == pytest.approx(e["expected_6dp"]["weighted_quadratic"], abs=SIX)
    assert quad.extra["ase"] == pytest.approx(e["expected_6dp"]["weighted_quadratic_ase"], abs=SIX)
    assert e["expected"]["ase"] == pytest.approx(cohen_kappa(a, b, labels=[1, 2, 3]).extra["ase"], abs=5e-5)


def test_gwet_handbook_weighted(reference):
    """Gwet's Handbook 3x3 abstractors: quadratic Cohen 0.892, AC2 0.94 (published)."""
    e = reference["gwet_cont3x3_abstractors"]
    a, b = table_to_pairs(e["data"])
    quad = cohen_kappa(a, b, labels=[1, 2, 3], weights="quadratic")
    lin = cohen_kappa(a, b, labels=[1, 2, 3], weights="linear")
    assert quad.value == pytest.approx(e["expected"]["cohen_quadratic"], abs=PUB)
    assert quad.value == pytest.approx(e["expected_6dp"]["sklearn_quadratic"], abs=SIX)
    assert lin.value == pytest.approx(e["expected_6dp"]["sklearn_linear"], abs=SIX)
    ac2 = gwet_ac2(np.array([a, b], float), categories=[1, 2, 3], weights="quadratic")
    assert ac2.value == pytest.approx(e["expected"]["AC2_quadratic"], abs=PUB)
    # The file's 6-dp AC2 (0.940235) differs from the hand computation by 1.9e-6:
    # p_a = 0.89 + 0.75 * 0.11 = 0.9725, pi = (.13, .255, .615),
    # p_e = 6 / 6 * sum pi (1 - pi) = 0.53985, AC2 = 0.43265 / 0.46015.
    assert ac2.value == pytest.approx(0.43265 / 0.46015, abs=1e-9)
    assert ac2.value == pytest.approx(e["expected_6dp"]["AC2_quadratic"], abs=5e-6)


def test_kappa_paradox_reports_ac1_and_percent_agreement(reference):
    """Feinstein & Cicchetti (1990) paradox: p_o 0.944, kappa -0.023, AC1 0.941."""
    e = reference["kappa_paradox_prevalence_118_5_2_0"]
    a, b = table_to_pairs(e["data"])
    k = cohen_kappa(a, b, labels=[1, 2])
    assert k.extra["percent_agreement"] == pytest.approx(e["expected"]["p_o"], abs=SIX)
    assert k.value == pytest.approx(e["expected"]["cohen_kappa"], abs=SIX)
    ac1 = gwet_ac1(np.array([a, b], float), categories=[1, 2])
    assert ac1.value == pytest.approx(e["expected"]["gwet_AC1"], abs=SIX)


ICC_KEYS = {
    "1,1": ("ICC(1,1)", "ICC1_1", 0),
    "A,1": ("ICC(A,1)", "ICC2_1", 1),
    "C,1": ("ICC(C,1)", "ICC3_1", 2),
    "1,k": ("ICC(1,k)", "ICC1_k", 3),
    "A,k": ("ICC(A,k)", "ICC2_k", 4),
    "C,k": ("ICC(C,k)", "ICC3_k", 5),
}


@pytest.mark.parametrize("kind", list(ICC_KEYS))
def test_shrout_fleiss_1979_table_2(reference, kind):
    """Shrout & Fleiss (1979) Psychol Bull 86:420-428, Table 2 (rows = targets)."""
    e = reference["shrout_fleiss_1979_icc_6targets_4judges"]
    key6, key_pub, i = ICC_KEYS[kind]
    data = np.array(e["data"], dtype=float).T  # -> raters x units
    r = icc(data, kind, ci=0.95)
    x6 = e["expected_6dp"][key6]
    assert r.value == pytest.approx(e["expected"][key_pub], abs=e["tolerance"]["published"])
    assert r.value == pytest.approx(x6["ICC"], abs=SIX)
    assert r.extra["F"] == pytest.approx(x6["F"], abs=SIX)
    assert (r.extra["df1"], r.extra["df2"]) == (x6["df1"], x6["df2"])
    assert r.extra["pval"] == pytest.approx(x6["pval"], abs=SIX)
    assert r.ci == pytest.approx(tuple(x6["ci95"]), abs=SIX)
    assert r.ci[0] == pytest.approx(e["expected"]["ci95_lower"][i], abs=e["tolerance"]["published"])
    assert r.ci[1] == pytest.approx(e["expected"]["ci95_upper"][i], abs=e["tolerance"]["published"])
    f_pub = e["expected"]["F_oneway" if kind.startswith("1") else "F_twoway"]
    assert r.extra["F"] == pytest.approx(f_pub, abs=0.05)


def test_shrout_fleiss_interval_alpha(reference):
    e = reference["shrout_fleiss_1979_icc_6targets_4judges"]
    data = np.array(e["data"], dtype=float).T
    r = krippendorff_alpha(data, "interval")
    assert r.value == pytest.approx(e["expected_6dp"]["kripp_alpha_interval"], abs=SIX)


def test_all_identical_is_undefined_never_one_or_zero(reference):
    """Constructed edge case: every coefficient undefined, percent agreement 1."""
    data = reference["edge_all_identical"]["data"]
    results = [krippendorff_alpha(data, lv) for lv in LEVELS] + [
        fleiss_kappa(data),
        gwet_ac1(data, categories=[0, 1]),
        gwet_ac2(data, categories=[0, 1, 2]),
        cohen_kappa(data[0], data[1]),
        cohen_kappa(data[0], data[1], labels=[0, 1]),
        icc(data, "A,1"),
        icc(data, "C,1"),
    ]
    for r in results:
        assert r.value is None, r.statistic
        assert r.reason
        assert r.ci is None
    assert percent_agreement(data).value == 1.0
    assert krippendorff_alpha(data, ci=0.95).extra["percent_agreement"] == 1.0
